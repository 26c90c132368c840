"""Reports of a validation run: JSON (stable schema), a terminal table, an Excel report across
files, and annotated copies of the returned workbooks to send back to the regions."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter
from rich.console import Console
from rich.table import Table

from cos_xl.findings import SEVERITY_RU, Finding
from cos_xl.template.writer import fitted_height
from cos_xl.validate.run import FileResult

VERDICT_RU = {"PASS": "Принят", "PASS_WITH_WARNINGS": "Принят с предупреждениями",
              "FAIL": "Не принят"}
JSON_SCHEMA = "cos-xl/validation/1"


def _json_value(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def finding_json(f: Finding) -> dict:
    return {"code": f.code, "severity": f.severity, "sheet": f.sheet, "cell": f.cell,
            "message": f.message, "value": _json_value(f.value)}


def owner(r: FileResult) -> str:
    """Whose return: the region's code, or ``77/45000001`` for one of its units."""
    if not r.region_code:
        return ""
    return f"{r.region_code}/{r.unit_id}" if r.unit_id else r.region_code


def to_json(results: Sequence[FileResult]) -> dict:
    """``{"files": [{"path", "region_code", "period", "form_version", "verdict",
    "findings": [{"code", "severity", "sheet", "cell", "message", "value"}]}]}``; a unit's
    return (one level down) also has ``"unit_id"``."""
    return {"schema": JSON_SCHEMA, "files": [
        {"path": str(r.path), "region_code": r.region_code,
         **({"unit_id": r.unit_id} if r.unit_id else {}), "period": r.period,
         "form_version": r.form_version, "verdict": r.verdict,
         "findings": [finding_json(f) for f in r.findings]} for r in results]}


def print_table(results: Sequence[FileResult], console: Console) -> None:
    summary = Table(title="Проверка возвращённых книг", show_lines=False)
    for column in ("Файл", "Регион", "Период", "Итог", "Ошибки", "Предупр."):
        summary.add_column(column)
    colour = {"PASS": "green", "PASS_WITH_WARNINGS": "yellow", "FAIL": "red"}
    for r in results:
        counts = Counter(f.severity for f in r.findings)
        summary.add_row(r.path.name, owner(r) or "—", r.period or "—",
                        f"[{colour[r.verdict]}]{VERDICT_RU[r.verdict]}[/]",
                        str(counts["error"]), str(counts["warning"]))
    console.print(summary)
    for r in results:
        if not r.findings:
            continue
        table = Table(title=r.path.name, show_lines=False)
        for column in ("Код", "Вид", "Ячейка", "Сообщение"):
            table.add_column(column, overflow="fold")
        for f in r.findings:
            where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "")
            table.add_row(f.code, SEVERITY_RU[f.severity], where, f.message)
        console.print(table)


#: (header, column width) of the two sheets of the Excel report.
FILE_COLUMNS = [("Файл", 30), ("Регион", 8), ("Период", 9), ("Версия формы", 10),
                ("Итог", 26), ("Ошибок", 9), ("Предупреждений", 16)]
FINDING_COLUMNS = [("Файл", 24), ("Регион", 8), ("Период", 9), ("Итог", 14), ("Код", 22),
                   ("Вид", 15), ("Лист", 12), ("Ячейка", 8), ("Сообщение", 60),
                   ("Значение", 14)]


def write_xlsx_report(results: Sequence[FileResult], path: Path) -> None:
    """One row per file and one per finding with a link to the file; texts are never written
    as formulas. Every text is wrapped and its row is as tall as the text needs; each sheet is
    printed on A4 landscape, one page wide, its header repeated on every page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
    header = wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "border": 1,
                            "text_wrap": True, "valign": "vcenter"})
    text = wb.add_format({**base, "text_wrap": True})
    number = wb.add_format(base)
    numbers = (wb.add_format({**base, "num_format": "0", "align": "left"}),
               wb.add_format({**base, "num_format": "0.0#####", "align": "left"}))
    link = wb.add_format({**base, "font_color": "blue", "underline": 1, "text_wrap": True})
    files = wb.add_worksheet("Файлы")
    rows = wb.add_worksheet("Замечания")
    for ws, columns in ((files, FILE_COLUMNS), (rows, FINDING_COLUMNS)):
        _layout(ws, columns, header)
    row = 1
    for index, r in enumerate(results, start=1):
        counts = Counter(f.severity for f in r.findings)
        uri = r.path.resolve().as_uri()
        values = [owner(r), r.period or "", r.form_version or "",
                  VERDICT_RU[r.verdict]]
        files.write_url(index, 0, uri, link, string=r.path.name)
        for col, value in enumerate(values, start=1):
            files.write_string(index, col, value, text)
        files.write_number(index, 5, counts["error"], number)
        files.write_number(index, 6, counts["warning"], number)
        _fit(files, index, FILE_COLUMNS, [r.path.name, *values])
        for f in r.findings:
            values = [owner(r), r.period or "", VERDICT_RU[r.verdict], f.code,
                      SEVERITY_RU[f.severity], f.sheet or "", f.cell or "", f.message]
            rows.write_url(row, 0, uri, link, string=r.path.name)
            for col, value in enumerate(values, start=1):
                rows.write_string(row, col, value, text)
            shown = _write_value(rows, row, len(values) + 1, f.value, text, numbers)
            _fit(rows, row, FINDING_COLUMNS, [r.path.name, *values, shown])
            row += 1
    files.autofilter(0, 0, max(len(results), 1), len(FILE_COLUMNS) - 1)
    rows.autofilter(0, 0, max(row - 1, 1), len(FINDING_COLUMNS) - 1)
    wb.close()


def _write_value(ws, row: int, col: int, value: object, text, numbers) -> str:
    """A finding's value: a number as a number (``numbers``: whole, fractional format), so
    that 94.4933920704845 shows as 94.493392; anything else as text, which is returned."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        ws.write_number(row, col, value, numbers[0 if float(value).is_integer() else 1])
        return ""
    shown = "" if value is None else str(_json_value(value))
    ws.write_string(row, col, shown, text)
    return shown


def _layout(ws, columns: list[tuple[str, float]], header_format) -> None:
    """Header row (wrapped, tall enough), widths, frozen header, A4 landscape one page wide."""
    for col, (title, width) in enumerate(columns):
        ws.write_string(0, col, title, header_format)
        ws.set_column(col, col, width)
    # The autofilter button takes about two characters of the header cell.
    _fit(ws, 0, [(title, width - 2) for title, width in columns], [t for t, _ in columns])
    ws.freeze_panes(1, 0)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def _fit(ws, row: int, columns: list[tuple[str, float]], texts: list[str]) -> None:
    height = fitted_height([(t, width) for t, (_, width) in zip(texts, columns, strict=False)])
    if height is not None:
        ws.set_row(row, height)
