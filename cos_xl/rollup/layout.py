"""The sheet «Свод по МО» a rolled-up regional return carries: where its parts are.

``cos-xl rollup`` writes it (:mod:`cos_xl.rollup.sheet`); the validator reads it back
(:mod:`cos_xl.validate.rollup_sheet`). Rows and columns are 1-based as in Excel.

    1  title
    2  region — period
    3  how many accepted unit returns went into the sums, when, by which tool
    4  complete / INCOMPLETE (which units are missing)
    5  what the figures are
    6  hidden: A = MARKER, then the input id above each figure column
    7  header
    8… one row per unit, then the row «Итого» (the sums written on the sheet «Данные»)

Columns: the unit (№, code, name, kind, state, version, received), one column per count input
(its id in the hidden row 6), then the SHA-256 of the file of the version counted.
"""

from __future__ import annotations

ROLLUP_SHEET = "Свод по МО"
MARKER = "cos-xl/rollup/1"
TITLE = "Свод отчётов муниципальных образований и организаций"
MARKER_ROW = 6
HEADER_ROW = 7
FIRST_UNIT_ROW = 8
TOTAL_LABEL = "Итого"
#: the columns before the figures, with their widths
META_COLUMNS: tuple[tuple[str, float], ...] = (
    ("№", 5), ("Код", 12), ("Наименование", 40), ("Вид", 15), ("Состояние", 14),
    ("Версия", 7), ("Получен (МСК)", 16))
SHA_TITLE, SHA_WIDTH = "SHA-256 файла учтённой версии", 66
NAME_COL = 3
STATUS_COL = 5
FIRST_FIGURE_COL = len(META_COLUMNS) + 1
FIGURE_WIDTH = 14

ACCEPTED = "принят"
ACCEPTED_WITH_WARNINGS = "принят с предупреждениями"
REJECTED = "отклонён"
MISSING = "не получен"
#: the states of a unit that mean its figures are not in the sums
NOT_COUNTED = (REJECTED, MISSING)
