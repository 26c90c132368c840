"""Where things are in a regional workbook: sheet names and columns (one place to change)."""

from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell

SHEET_INSTRUCTIONS = "Инструкция"
SHEET_TITLE = "Титул"
SHEET_DATA = "Данные"
SHEET_INDICATORS = "Показатели"
SHEET_CHECKS = "Проверки"
SHEET_XLWINGS = "xlwings.conf"  # exact name: the xlwings add-in reads its settings here
SHEET_MANIFEST = "_manifest"
SHEETS = (SHEET_INSTRUCTIONS, SHEET_TITLE, SHEET_DATA, SHEET_INDICATORS, SHEET_CHECKS,
          SHEET_XLWINGS, SHEET_MANIFEST)

# Data sheet columns (0-based): №, label, unit, value (input), hint, id.
DATA_COLS = {"no": 0, "label": 1, "unit": 2, "value": 3, "hint": 4, "id": 5}
DATA_FIRST_ROW = 4

# Title sheet: label in A, value in B.
TITLE_VALUE_COL = 1

# Indicators sheet columns.
IND_COLS = {"code": 0, "title": 1, "num": 2, "den": 3, "value": 4, "unit": 5, "target": 6,
            "status": 7, "prev": 8, "native": 9, "agree": 10, "note": 11}
IND_FIRST_ROW = 5

# Checks sheet columns.
CHECK_COLS = {"no": 0, "code": 1, "severity": 2, "what": 3, "result": 4, "explanation": 5}
CHECK_FIRST_ROW = 7
CHECK_LAST_ROW = 400  # summary formulas count down to here

# Manifest sheet: the signed JSON in B1, its signature in B2.
MANIFEST_PAYLOAD_CELL = "B1"
MANIFEST_SIGNATURE_CELL = "B2"


def quote_sheet(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def cell(row: int, col: int, absolute: bool = False) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def ref(sheet: str, row: int, col: int) -> str:
    """An absolute reference usable in a defined name: ``'Данные'!$D$7``."""
    return f"{quote_sheet(sheet)}!{cell(row, col, absolute=True)}"


def address(sheet: str, row: int, col: int) -> str:
    """How the manifest names a cell: ``Данные!D7`` (sheet, then A1)."""
    return f"{sheet}!{cell(row, col)}"
