"""Per indicator: a ranking sheet (the units sorted by value, the chart's data) and a chart sheet
with a native column chart, which prints on a page of its own.

The target and national-value lines are drawn from helper columns of the ranking sheet (the same
number on every row); those columns are hidden, so they never print as stray data, and the chart
is told to plot hidden data. The lines are named with their value in the legend; the bars need
no legend entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import xlsxwriter
from xlsxwriter.chartsheet import Chartsheet
from xlsxwriter.worksheet import Worksheet

from cos_xl.consolidate.model import IndicatorInfo, NationalReport, NationalRow
from cos_xl.consolidate.xlsx_format import (
    LINE_PT, Styles, header, num, print_setup, share_ru, text_lines,
)

CHART_SHEET_PREFIX = "Диаграмма "
RANKING_SHEET_PREFIX = "Рейтинг "
RANKING_HEADER_ROW = 3  # 0-based
#: Visible columns of a ranking sheet; the helper columns for the lines follow, hidden.
RANKING_COLUMNS = ["Место", "Код", "Субъект (единица)", "Значение"]
_RANKING_WIDTHS = [8, 8, 44, 12]
TARGET_COLOR, NATIONAL_COLOR, BAR_COLOR = "#C00000", "#7F7F7F", "#4472C4"


def chart_sheet_name(code: str) -> str:
    return f"{CHART_SHEET_PREFIX}{code}"


def ranking_sheet_name(code: str) -> str:
    return f"{RANKING_SHEET_PREFIX}{code}"


@dataclass(frozen=True)
class _Lines:
    """Where a ranking sheet put the chart's data (0-based rows and columns)."""

    sheet: str
    first: int
    last: int
    target: float | None  # in the column after «Значение» when set
    national: float | None  # in the next column when set


def ranking_sheet(ws: Worksheet, report: NationalReport, line: NationalRow,
                  st: Styles) -> _Lines:
    """Write the ranking of ``line``'s indicator; return where the chart's data are."""
    info = line.indicator
    code = info.code
    ranked = sorted((u for u in report.units if u.figures[code].value is not None),
                    key=lambda u: (u.figures[code].rank, u.unit))
    empty = [u for u in report.units if u.figures[code].value is None]
    # A per-region target line: a share's target applies to every region (E4.01.05: 100 %);
    # the count targets (E4.01.07, E4.01.11) are national sums, meaningless against one bar.
    target = line.target if info.kind == "share" else None
    national = line.figure.value if info.kind == "share" else None
    for col, width in enumerate(_RANKING_WIDTHS):
        ws.set_column(col, col, width)
    ws.set_column(4, 5, 12, None, {"hidden": True})
    print_setup(ws, report, (RANKING_HEADER_ROW, RANKING_HEADER_ROW))
    ws.write_string(0, 0, f"{code} {info.short}, {info.unit}", st.title)
    note = _note(info, line, target, national)
    ws.merge_range(1, 0, 1, len(RANKING_COLUMNS) - 1, note, st.note_wrap)
    ws.set_row(1, LINE_PT * text_lines(note, sum(_RANKING_WIDTHS)))
    header(ws, RANKING_HEADER_ROW, [*RANKING_COLUMNS, "Цель", "По стране"], st)
    first = RANKING_HEADER_ROW + 1
    for row, unit in enumerate([*ranked, *empty], start=first):
        fig = unit.figures[code]
        num(ws, row, 0, fig.rank, st.centre_count)
        ws.write_string(row, 1, unit.unit, st.centre)
        ws.write_string(row, 2, unit.label, st.text)
        num(ws, row, 3, fig.value, st.number(info.kind))
        if row < first + len(ranked):
            if target is not None:
                ws.write_number(row, 4, target, st.number(info.kind))
            if national is not None:
                ws.write_number(row, 5, national, st.number(info.kind))
    if not ranked:
        ws.write_string(first, 2, "Нет значений: диаграмма пуста.", st.note)
    ws.freeze_panes(first, 0)
    return _Lines(ws.get_name(), first, first + max(len(ranked), 1) - 1, target, national)


def chart_sheet(wb: xlsxwriter.Workbook, sheet: Chartsheet, data: _Lines,
                report: NationalReport, line: NationalRow) -> None:
    """A column chart of the ranking in ``data`` on the chart sheet ``sheet`` (one page)."""
    info = line.indicator

    def ref(col: int) -> list:
        return [data.sheet, data.first, col, data.last, col]

    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Значение", "categories": ref(2), "values": ref(3),
                      "fill": {"color": BAR_COLOR}, "gap": 40})
    lines = wb.add_chart({"type": "line"})
    drawn = 0
    if data.target is not None:
        lines.add_series({"name": f"Цель: {share_ru(data.target)}", "categories": ref(2),
                          "values": ref(4), "line": {"color": TARGET_COLOR, "width": 2},
                          "marker": {"type": "none"}})
        drawn += 1
    if data.national is not None:
        lines.add_series({"name": f"По стране: {share_ru(data.national)}",
                          "categories": ref(2), "values": ref(5),
                          "line": {"color": NATIONAL_COLOR, "width": 1.5, "dash_type": "dash"},
                          "marker": {"type": "none"}})
        drawn += 1
    if drawn:
        chart.combine(lines)
        chart.set_legend({"position": "bottom", "delete_series": [0]})
    else:
        chart.set_legend({"none": True})
    chart.show_hidden_data()  # the lines' columns are hidden on the ranking sheet
    chart.set_title({"name": f"{info.code} {info.short}, {info.unit} — {report.period_title}",
                     "name_font": {"size": 12}})
    chart.set_y_axis({"name": info.unit, "num_format": "0" if info.kind == "share" else "#,##0",
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                      **({"max": 100, "min": 0} if info.kind == "share" else {"min": 0})})
    x_axis: dict = {"num_font": {"rotation": -90, "size": 7}}
    if data.last - data.first < 120:
        x_axis["interval_unit"] = 1
    chart.set_x_axis(x_axis)
    sheet.set_chart(chart)
    print_setup(sheet, report, fit_width=False)


def _note(info: IndicatorInfo, line: NationalRow, target: float | None,
          national: float | None) -> str:
    order = ("Субъекты (единицы) по убыванию значения; без значения — в конце. "
             f"Диаграмма — на листе «{chart_sheet_name(info.code)}»")
    if target is not None and national is not None:
        return (f"{order}: красная линия — цель {share_ru(target)}, пунктир — значение по "
                f"стране {share_ru(national)}.")
    if national is not None:
        return f"{order}: пунктир — значение по стране {share_ru(national)}."
    if line.target is not None:
        return (f"{order}. {line.target_note}: цель для суммы по стране, не для одного "
                "субъекта; её выполнение — на листе «Сводка».")
    return f"{order}."
