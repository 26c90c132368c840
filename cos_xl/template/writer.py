"""A thin layer over XlsxWriter that records what it locks, for the manifest's structure digest,
and a workbook class that also protects the workbook structure.

XlsxWriter protects worksheets but cannot write ``<workbookProtection lockStructure="1">``; the
subclass below writes that element at its place in ``xl/workbook.xml`` (before ``bookViews``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cos_xl.template.layout import address


def legacy_password_hash(password: str) -> str:
    """The 16-bit password verifier of ECMA-376 Part 4 §15.2.x, as Excel writes it."""
    digest = 0
    for char in password[::-1]:
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password) ^ 0xCE4B
    return f"{digest:X}"


class ProtectedWorkbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook whose structure (sheet list) is locked with a password."""

    def add_worksheet(self, name=None, worksheet_class=None):
        return super().add_worksheet(name, worksheet_class or CachingWorksheet)

    def protect_structure(self, password: str) -> None:
        self._structure_password = password

    def _write_book_views(self) -> None:
        password = getattr(self, "_structure_password", None)
        if password is not None:
            self._xml_empty_tag("workbookProtection", [
                ("workbookPassword", legacy_password_hash(password)),
                ("lockStructure", "1"),
            ])
        super()._write_book_views()


@lru_cache(maxsize=4096)
def _prepared(formula: str, future: bool) -> str:
    return Worksheet._prepare_formula(_PREPARER, formula, future)


class CachingWorksheet(Worksheet):
    """A worksheet that prepares each distinct formula text once per process.

    XlsxWriter rewrites every formula with ~30 regular expressions (future functions); the
    templates of a period repeat the same few hundred formulas in every regional workbook, so
    caching the result is most of the generator's speed. The result is the same text."""

    def _prepare_formula(self, formula, expand_future_functions=False):
        return _prepared(formula, bool(expand_future_functions or self.use_future_functions))


_PREPARER = Worksheet()


LINE_HEIGHT = 13.0  # points per line of Arial 10


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in Arial 10 wrapped in a column ``width`` units wide."""
    per_line = max(int(width * 1.05), 1)  # Arial 10: about 1.05 characters per width unit
    return sum(max(1, -(-len(part) // per_line)) for part in str(text).split("\n"))


def fitted_height(texts: Iterable[tuple[str, float]]) -> float | None:
    """The height in points of a row that shows every (text, column width) pair wrapped in
    Arial 10; None when one line is enough (the default height). XlsxWriter cannot measure
    text, and office programs do not grow rows on opening a file."""
    lines = max((wrapped_lines(text, width) for text, width in texts), default=1)
    return LINE_HEIGHT * lines if lines > 1 else None


class Sheet:
    """Writes cells of one worksheet and records every locked one into ``structure``."""

    def __init__(self, worksheet: Worksheet, structure: list[list[str]]):
        self.ws = worksheet
        self.name = worksheet.get_name()
        self._structure = structure

    def _record(self, row: int, col: int, kind: str, content: Any) -> None:
        self._structure.append([address(self.name, row, col), kind, str(content)])

    def text(self, row: int, col: int, text: str, fmt=None) -> None:
        self.ws.write_string(row, col, text, fmt)
        self._record(row, col, "s", text)

    def fit_row(self, row: int, texts: list[tuple[str, float]]) -> None:
        """Set a row's height for wrapped texts: (text, column width) pairs (see
        :func:`fitted_height`; a protected sheet's rows cannot be grown by the region)."""
        height = fitted_height(texts)
        if height is not None:
            self.ws.set_row(row, height)

    def blank(self, row: int, col: int, fmt) -> None:
        """A locked empty cell (formatted): ISBLANK is true for it, unlike for ``""``."""
        self.ws.write_blank(row, col, None, fmt)
        self._record(row, col, "b", "")

    def number(self, row: int, col: int, value: float, fmt=None) -> None:
        self.ws.write_number(row, col, value, fmt)
        self._record(row, col, "n", repr(float(value)))

    def date(self, row: int, col: int, value, fmt) -> None:
        self.ws.write_datetime(row, col, value, fmt)
        self._record(row, col, "d", value.isoformat())

    def formula(self, row: int, col: int, formula: str, fmt=None, value: Any = None) -> None:
        """``formula`` without the leading ``=``; ``value`` is the cached result for viewers
        that do not recalculate (computed by the Python core)."""
        cached = "" if value is None else value
        self.ws.write_formula(row, col, "=" + formula, fmt, cached)
        self._record(row, col, "f", formula)

    def merge_text(self, first_row: int, first_col: int, last_row: int, last_col: int,
                   text: str, fmt) -> None:
        self.ws.merge_range(first_row, first_col, last_row, last_col, text, fmt)
        self._record(first_row, first_col, "m", f"{last_row},{last_col}:{text}")

    def validate(self, row: int, col: int, options: dict) -> None:
        """A data validation on one cell; it is part of the locked structure."""
        self.ws.data_validation(row, col, row, col, options)
        self._record(row, col, "v", sorted((k, str(v)) for k, v in options.items()))

    def input(self, row: int, col: int, fmt, value: Any = None) -> str:
        """An unlocked input cell (not part of the structure); returns its address."""
        if value is None:
            self.ws.write_blank(row, col, None, fmt)
        else:
            self.ws.write(row, col, value, fmt)
        self._record(row, col, "input", "")
        return address(self.name, row, col)
