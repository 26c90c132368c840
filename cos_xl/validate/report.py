"""Reports of a validation run: JSON (stable schema), a terminal table, an Excel report across
files, and annotated copies of the returned workbooks to send back to the regions."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter
from rich.console import Console
from rich.table import Table

from cos_xl.findings import SEVERITY_RU, Finding
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


def to_json(results: Sequence[FileResult]) -> dict:
    """``{"files": [{"path", "region_code", "period", "form_version", "verdict",
    "findings": [{"code", "severity", "sheet", "cell", "message", "value"}]}]}``"""
    return {"schema": JSON_SCHEMA, "files": [
        {"path": str(r.path), "region_code": r.region_code, "period": r.period,
         "form_version": r.form_version, "verdict": r.verdict,
         "findings": [finding_json(f) for f in r.findings]} for r in results]}


def print_table(results: Sequence[FileResult], console: Console) -> None:
    summary = Table(title="Проверка возвращённых книг", show_lines=False)
    for column in ("Файл", "Регион", "Период", "Итог", "Ошибки", "Предупр."):
        summary.add_column(column)
    colour = {"PASS": "green", "PASS_WITH_WARNINGS": "yellow", "FAIL": "red"}
    for r in results:
        counts = Counter(f.severity for f in r.findings)
        summary.add_row(r.path.name, r.region_code or "—", r.period or "—",
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


def write_xlsx_report(results: Sequence[FileResult], path: Path) -> None:
    """One row per finding with a link to the file; texts are never written as formulas."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    bold = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    files = wb.add_worksheet("Файлы")
    rows = wb.add_worksheet("Замечания")
    for ws, header, widths in (
        (files, ["Файл", "Регион", "Период", "Версия формы", "Итог", "Ошибок",
                 "Предупреждений"], [40, 8, 10, 12, 26, 9, 15]),
        (rows, ["Файл", "Регион", "Период", "Итог", "Код", "Вид", "Лист", "Ячейка",
                "Сообщение", "Значение"], [34, 8, 10, 24, 22, 15, 14, 8, 80, 20]),
    ):
        for col, (text, width) in enumerate(zip(header, widths, strict=True)):
            ws.write_string(0, col, text, bold)
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
    row = 1
    for index, r in enumerate(results, start=1):
        counts = Counter(f.severity for f in r.findings)
        link = r.path.resolve().as_uri()
        files.write_url(index, 0, link, string=r.path.name)
        for col, value in enumerate([r.region_code or "", r.period or "", r.form_version or "",
                                     VERDICT_RU[r.verdict]], start=1):
            files.write_string(index, col, value)
        files.write_number(index, 5, counts["error"])
        files.write_number(index, 6, counts["warning"])
        for f in r.findings:
            rows.write_url(row, 0, link, string=r.path.name)
            values = [r.region_code or "", r.period or "", VERDICT_RU[r.verdict], f.code,
                      SEVERITY_RU[f.severity], f.sheet or "", f.cell or ""]
            for col, value in enumerate(values, start=1):
                rows.write_string(row, col, value)
            rows.write_string(row, 8, f.message, wrap)
            rows.write_string(row, 9, "" if f.value is None else str(_json_value(f.value)))
            row += 1
    rows.autofilter(0, 0, max(row - 1, 1), 9)
    wb.close()
