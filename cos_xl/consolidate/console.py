"""The national figures as a terminal table (rich), for ``cos-xl consolidate`` and the demo."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cos_xl.consolidate.model import NationalReport


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "нет данных"
    if unit == "%":
        return f"{value:.1f} %".replace(".", ",")
    return f"{value:,.0f}".replace(",", " ")


def _met(met: bool | None) -> str:
    return "" if met is None else ("[green]да[/]" if met else "[red]нет[/]")


_PART_LABEL = {"students": "обучающихся", "subjects": "субъектов-участников",
               "org_share": "доля школ у участников"}


def print_national(report: NationalReport, console: Console) -> None:
    table = Table(title=f"Национальные значения, {report.period_title}", title_justify="left")
    table.add_column("Показатель", no_wrap=True, overflow="ellipsis", max_width=34)
    for column in ("Значение", "Числитель", "Знаменатель", "Цель"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("Цель достигнута", no_wrap=True)
    for row in report.national:
        info, fig = row.indicator, row.figure
        table.add_row(f"{info.code} {info.short}", _number(fig.value, info.unit),
                      _number(fig.numerator, ""),
                      _number(fig.denominator, "") if fig.denominator is not None else "",
                      _number(row.target, info.unit) if row.target is not None else "",
                      _met(row.met))
        for part in row.parts:
            unit = "%" if part.key == "org_share" else ""
            table.add_row(f"  └ {_PART_LABEL.get(part.key, part.title)}", _number(part.value, unit), "", "",
                          _number(part.target, unit), _met(part.met))
    console.print(table)
    console.print(
        f"Учтено субъектов: {report.regions_reported} из {report.regions_expected}; "
        f"не прислали: {len(report.missing)}; только отклонённые файлы: {len(report.rejected)}")
