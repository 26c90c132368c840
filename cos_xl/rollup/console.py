"""What ``cos-xl rollup`` prints: the units taken and left out, the file written, the check."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cos_xl.findings import SEVERITY_RU
from cos_xl.rollup.run import RollupResult
from cos_xl.rollup.sheet import moscow
from cos_xl.units import how_many

_VERDICT = {"PASS": "[green]проходит проверку[/]",
            "PASS_WITH_WARNINGS": "[yellow]проходит проверку с предупреждениями[/]",
            "FAIL": "[red]не проходит проверку[/]"}


def print_rollup(result: RollupResult, console: Console) -> None:
    table = result.table
    units = Table(title=f"Свод {table.period}: {table.region.full_name}", show_lines=False)
    for column in ("Код", "МО / организация", "Состояние", "Версия", "Получен (МСК)"):
        units.add_column(column)
    shown = table.rows if len(table.rows) <= 40 else table.missing[:40]
    for row in shown:
        colour = "red" if not row.counted else "green"
        units.add_row(row.unit.unit_id, escape(row.unit.name), f"[{colour}]{row.state}[/]",
                      str(row.version or "—"), moscow(row.received) if row.received else "—")
    console.print(units)
    counted = len(table.rows) - len(table.missing)
    console.print(f"Учтено: {counted} из "
                  f"{how_many(len(table.rows), genitive=True)}"
                  + (" (в таблице показаны только неучтённые)" if shown is not table.rows else ""))
    if table.missing:
        console.print(f"[bold red]Свод неполный:[/] нет принятых отчётов "
                      f"{how_many(len(table.missing), genitive=True)}"
                      "; это отмечено на листе «Свод по МО», федеральная проверка предупредит.")
    for note in result.notes:
        console.print(f"Примечание: {escape(note)}")
    console.print(f"Записано: {result.path} за {result.seconds:.2f} с — книга "
                  f"{_VERDICT[result.verdict]} (без проверки федеральной подписи: ключ у "
                  "федерального оператора).")
    warnings = [f for f in result.findings if f.severity == "warning"]
    for finding in warnings:
        where = f"{finding.sheet}!{finding.cell}" if finding.cell else (finding.sheet or "")
        console.print(f"  {SEVERITY_RU[finding.severity]} {finding.code} {where}: "
                      f"{escape(finding.message)}")
    if any(f.code not in ("rollup-units-missing",) for f in warnings):
        console.print("Предупреждение можно пояснить: откройте файл, на листе «Проверки» впишите "
                      "пояснение в столбце «Пояснение» и сохраните как .xlsm/.xlsx — свод при "
                      "этом не меняется.")
    console.print(f"Отправьте {result.path.name} федеральному оператору так же, как отчёт "
                  "субъекта, заполненный вручную.")
