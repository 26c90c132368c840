"""``cos-xl udf-selftest``: a small .xlsm an IT person opens in Excel to see whether the COS_*
functions work on that machine (xlwings add-in or standalone module, Python, cos_xl installed,
macros trusted)."""

from __future__ import annotations

import io

import xlsxwriter

from cos_xl import __version__
from cos_xl.template.builder import XLWINGS_SETTINGS, vba_modules
from cos_xl.template.layout import SHEET_XLWINGS
from cos_xl.vba import build_vba_project

SHEET = "Проверка функций"
OK, NOT_OK = "работает", "НЕ работает"

#: (what, formula, expected value, how to compare)
CASES = [
    ("Версия cos-xl", "COS_VERSION()", "cos-xl", "contains"),
    ("E4.03 из аргументов: 10 из 100", "COS_E403(10,0,0,100,0,0)", 10, "equals"),
    ("E4.01.07: количество", "COS_E40107(2500)", 2500, "equals"),
    ("Цель E4.01.05", 'COS_TARGET("E4.01.05")', 100, "equals"),
]


def build_selftest() -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    wb.set_properties({"title": "cos-xl: проверка функций COS_*", "author": "cos-xl"})
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws = wb.add_worksheet(SHEET)
    ws.set_column(0, 0, 42)
    ws.set_column(1, 3, 28)
    ws.write_string(0, 0, f"Проверка функций COS_* (cos-xl {__version__})", bold)
    ws.write_string(1, 0, "Откройте файл в Excel на компьютере с Python, xlwings и cos_xl и "
                          "разрешите макросы. Если в столбце «Итог» везде «работает», функции "
                          "доступны; иначе см. docs/udfs.md.", wrap)
    ws.set_row(1, 45)
    for col, text in enumerate(["Что проверяется", "Результат функции", "Ожидается", "Итог"]):
        ws.write_string(3, col, text, bold)
    for row, (what, formula, expected, how) in enumerate(CASES, start=4):
        ws.write_string(row, 0, what)
        ws.write_formula(row, 1, f'=IFERROR({formula},"ошибка: функция недоступна")', None, "")
        if isinstance(expected, str):
            ws.write_string(row, 2, expected)
        else:
            ws.write_number(row, 2, expected)
        test = (f'ISNUMBER(SEARCH(C{row + 1},B{row + 1}))' if how == "contains"
                else f"B{row + 1}=C{row + 1}")
        ws.write_formula(row, 3, f'=IF({test},"{OK}","{NOT_OK}")', None, NOT_OK)
    conf = wb.add_worksheet(SHEET_XLWINGS)
    for row, (key, value) in enumerate(XLWINGS_SETTINGS.items()):
        conf.write_string(row, 0, key)
        conf.write_string(row, 1, value)
    conf.hide()
    wb.add_vba_project(io.BytesIO(build_vba_project(vba_modules(), sheet_count=2)),
                       is_stream=True)
    wb.set_vba_name("ThisWorkbook")
    wb.close()
    return buffer.getvalue()
