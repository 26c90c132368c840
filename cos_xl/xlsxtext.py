"""Small pieces of SpreadsheetML every part of cos_xl needs the same way: Excel's ``_xHHHH_``
escapes in text, A1 cell references, and the attributes of a start tag. Used by the validator's
reader (:mod:`cos_xl.validate.ooxml`), the cell patcher (:mod:`cos_xl.xlsxpatch`)
and the template batch renderer (:mod:`cos_xl.template.batch`). Standard library only."""

from __future__ import annotations

import re

MAX_ROW = 1_048_576
MAX_COL = 16_384

_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile("[&<>_\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_ATTR = re.compile(r'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def excel_unescape(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes (``_x000D_`` → CR, ``_x005F_`` → ``_``); a UTF-16 pair written
    as two escapes becomes its character."""
    if "_x" not in text:
        return text
    out = _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any("\ud800" <= ch <= "\udfff" for ch in out):
        out = out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return out


def xml_text(text: str) -> str:
    """Character data as Excel writes it: ``& < >`` escaped; a literal ``_xHHHH_`` protected
    as ``_x005F_xHHHH_``; characters XML 1.0 forbids as ``_xHHHH_``."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = _EXCEL_ESCAPE.sub(lambda m: "_x005F" + m.group(0), text)
    text = _ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def col_letters(col: int) -> str:
    """1 → ``A``, 27 → ``AA``."""
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def col_number(letters: str) -> int:
    """``A`` → 1, ``AA`` → 27 (upper-case letters)."""
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col


def cell_position(ref: str, where: str = "") -> tuple[int, int]:
    """``D7`` (or ``$D$7``) → (row 7, column 4), both 1-based; ValueError naming ``where`` for
    anything that is not a cell of a sheet."""
    match = _CELL.match(ref)
    if not match:
        raise ValueError(f"{where}: {ref!r} is not an A1 cell reference")
    row, col = int(match.group(2)), col_number(match.group(1).upper())
    if not (1 <= col <= MAX_COL and 1 <= row <= MAX_ROW):
        raise ValueError(f"{where}: cell reference {ref!r} is outside the sheet")
    return row, col


def cell_name(row: int, col: int) -> str:
    """(7, 4) → ``D7``."""
    return f"{col_letters(col)}{row}"


def range_cells(ref: str, where: str = "", limit: int = 100_000) -> list[str]:
    """``A1:B2`` → ``["A1", "B1", "A2", "B2"]`` (row by row); a reversed or huge range is a
    ValueError."""
    first, _, last = ref.partition(":")
    r1, c1 = cell_position(first, where)
    r2, c2 = cell_position(last or first, where)
    if c2 < c1 or r2 < r1 or (c2 - c1 + 1) * (r2 - r1 + 1) > limit:
        raise ValueError(f"{where}: range {ref!r} is reversed or too large")
    return [cell_name(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def split_address(address: str) -> tuple[str, str]:
    """``'Данные'!$D$7`` → (``Данные``, ``D7``)."""
    sheet, cell = address.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cell.replace("$", "").upper()


def tag_attributes(tag: str) -> dict[str, str]:
    """The attributes of a start tag's text (``r="A1" s='3'``), either quote."""
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(tag)}
