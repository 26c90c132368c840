"""Tables for people: what an intake did, and where each region of a period stands."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from rich.console import Console
from rich.table import Table

from cos_xl.ledger.intake import IntakeOutcome
from cos_xl.ledger.records import UnattributedFile
from cos_xl.plural import quantity
from cos_xl.ledger.status import MOSCOW, StatusRow, summary

# Above this many files the intake table lists only the files that need a look.
FULL_TABLE_UP_TO = 100


def moscow_time(moment: dt.datetime | None) -> str:
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M") if moment else ""


def _remarks(outcome: IntakeOutcome) -> str:
    if outcome.status != "new":
        return ""
    errors = [f for f in outcome.findings if f.severity == "error"]
    if errors:
        first = errors[0].message
        first = first if len(first) <= 90 else first[:89] + "…"
        return f"ошибок: {len(errors)}; первая: {first}"
    warnings = sum(f.severity == "warning" for f in outcome.findings)
    return f"предупреждений: {warnings}" if warnings else ""


_COUNTED = {"duplicate": "повторов", "error": "ошибок чтения", "skipped": "не книги (пропущены)",
            "refused": "другой период", "other-key": "другой ключ"}


def print_intake(outcomes: list[IntakeOutcome], console: Console) -> None:
    shown = outcomes
    if len(outcomes) > FULL_TABLE_UP_TO:
        shown = [o for o in outcomes if not (o.status == "new" and o.verdict == "PASS")]
    if shown:
        table = Table(title="Приём файлов", title_justify="left")
        for column in ("Файл", "Субъект", "Период", "Итог", "Замечания"):
            table.add_column(column)
        colour = {"PASS": "green", "PASS_WITH_WARNINGS": "yellow", "FAIL": "red"}
        for o in shown:
            table.add_row(o.path.name, o.region_code or "—", o.period or "—",
                          f"[{'dim' if o.status == 'skipped' else colour[o.verdict]}]"
                          f"{o.message}[/]", _remarks(o))
        console.print(table)
    counts = Counter()
    for o in outcomes:
        counts[_COUNTED.get(o.status) or ("отклонено" if o.verdict == "FAIL" else "принято")] += 1
    parts = [f"{name}: {counts[name]}" for name in
             ("принято", "отклонено", "повторов", "другой период", "другой ключ",
              "не книги (пропущены)", "ошибок чтения") if counts[name]]
    console.print(f"Файлов: {len(outcomes)}; " + ", ".join(parts))


def print_status(rows: list[StatusRow], period: str, deadline: dt.date, console: Console,
                 unattributed: int = 0) -> None:
    table = Table(title=f"Период {period}, срок {deadline:%d.%m.%Y}", title_justify="left")
    for column in ("Код", "Субъект", "Статус", "Версия", "Получен (МСК)", "Срок", "Примечание"):
        table.add_column(column)
    style = {"not_received": "dim", "rejected": "red", "accepted_with_warnings": "yellow",
             "accepted": "green"}
    for row in rows:
        table.add_row(row.region_code, row.region_name,
                      f"[{style[row.state]}]{row.state_ru}[/]",
                      str(row.latest_version) if row.latest_version else "",
                      moscow_time(row.latest_received_at),
                      "[red]просрочен[/]" if row.overdue else "", row.note_ru())
    console.print(table)
    counts = summary(rows)
    console.print(
        f"Субъектов: {len(rows)}; принято: {counts['accepted']}, с предупреждениями: "
        f"{counts['accepted_with_warnings']}, отклонено: {counts['rejected']}, не получено: "
        f"{counts['not_received']}; просрочено: {counts['overdue']}")
    if unattributed:
        console.print(f"[yellow]Неопознанных файлов в реестре: {unattributed}[/] (подпись или "
                      "манифест не подтверждены; они сохранены, но не отнесены к субъекту)")


def print_unidentified(files: list[UnattributedFile], console: Console) -> None:
    """The files kept as unidentified, with the number to remove them by."""
    if not files:
        console.print("Неопознанных файлов в реестре нет.")
        return
    table = Table(title="Неопознанные файлы", title_justify="left")
    for column in ("№", "Файл", "Получен (МСК)", "Размер", "По манифесту", "Причина"):
        table.add_column(column, overflow="fold")
    for f in files:
        claimed = " ".join(x for x in (f.claimed_region_code, f.claimed_period) if x) or "—"
        errors = [x.message for x in f.findings if x.severity == "error"]
        reason = errors[0] if errors else ""
        table.add_row(str(f.id), f.filename, moscow_time(f.received_at), f"{f.size:,}".replace(
            ",", " "), claimed, reason if len(reason) <= 120 else reason[:119] + "…")
    console.print(table)
    console.print(f"{quantity(len(files), 'файл', 'файла', 'файлов')}; удалить: "
                  "cos-xl ledger unidentified --remove НОМЕР")
