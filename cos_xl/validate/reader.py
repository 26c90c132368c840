"""Read a returned workbook's values fast (python-calamine), by the cells its manifest names.

Only values are read here; the locked structure (formulas, labels, protection) is checked
separately. The caller has already passed the file through :mod:`cos_xl.validate.safety`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from cos_xl.errors import CosXlError
from cos_xl.template.layout import MANIFEST_PAYLOAD_CELL, MANIFEST_SIGNATURE_CELL, SHEET_MANIFEST

_A1 = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


class ReadError(CosXlError):
    """The workbook cannot be read as a spreadsheet at all."""


@dataclass(frozen=True)
class Returned:
    """What a returned workbook says: its manifest (as text, to verify the signature) and the
    raw values of the cells the manifest names (None for an empty cell)."""

    path: Path
    manifest_text: str | None
    signature: str | None
    manifest: dict | None
    values: dict[str, object] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)
    cached: dict[str, object] = field(default_factory=dict)


def split_address(address: str) -> tuple[str, int, int]:
    """``Данные!D7`` -> (sheet, row index, column index), 0-based."""
    sheet, cell = address.rsplit("!", 1)
    match = _A1.match(cell.replace("$", "").upper())
    if not match:
        raise ValueError(f"not an A1 cell: {address!r}")
    column = 0
    for ch in match.group(1):
        column = column * 26 + ord(ch) - 64
    return sheet.strip("'"), int(match.group(2)) - 1, column - 1


class _Sheets:
    """Sheets read once each, addressed by A1 cells."""

    def __init__(self, workbook: python_calamine.CalamineWorkbook):
        self.workbook = workbook
        self.names = set(workbook.sheet_names)
        self.cache: dict[str, list] = {}

    def value(self, address: str) -> object:
        sheet, row, col = split_address(address)
        if sheet not in self.names:
            return None
        if sheet not in self.cache:
            # skip_empty_area=False: rows start at A1 whatever the first used cell is.
            self.cache[sheet] = self.workbook.get_sheet_by_name(sheet).to_python(
                skip_empty_area=False)
        rows = self.cache[sheet]
        if row >= len(rows) or col >= len(rows[row]):
            return None
        value = rows[row][col]
        return None if value == "" else value


def read_returned(path: Path) -> Returned:
    """Read the manifest and the named cells; raise ReadError when it is no spreadsheet."""
    try:
        return _read(path)
    except ReadError:
        raise
    except Exception as exc:  # calamine raises its own error types (XmlError…) on bad parts
        raise ReadError(f"{Path(path).name}: не удалось прочитать книгу: {exc}") from exc


def _read(path: Path) -> Returned:
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    sheets = _Sheets(workbook)
    text = sheets.value(f"{SHEET_MANIFEST}!{MANIFEST_PAYLOAD_CELL}")
    signature = sheets.value(f"{SHEET_MANIFEST}!{MANIFEST_SIGNATURE_CELL}")
    text = text if isinstance(text, str) else None
    try:
        manifest = json.loads(text) if text else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        return Returned(Path(path), text, signature if isinstance(signature, str) else None, None)
    values = {name: sheets.value(address)
              for name, address in (manifest.get("inputs") or {}).items()}
    explanations = {}
    for rule_id, entry in (manifest.get("checks") or {}).items():
        if isinstance(entry, dict) and "explanation" in entry:
            text_value = sheets.value(entry["explanation"])
            if text_value is not None and str(text_value).strip():
                explanations[rule_id] = str(text_value).strip()
    cached = {code: sheets.value(address)
              for code, address in (manifest.get("indicators") or {}).items()}
    return Returned(Path(path), text, signature if isinstance(signature, str) else None,
                    manifest, values, explanations, cached)
