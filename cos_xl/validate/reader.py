"""The values of a returned workbook, by the cells its manifest names.

Read from the package the structure check parses anyway (:mod:`cos_xl.validate.ooxml`), so a
file is read once. The caller has already passed it through :mod:`cos_xl.validate.safety`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cos_xl import xlsxtext
from cos_xl.errors import CosXlError
from cos_xl.template.layout import MANIFEST_PAYLOAD_CELL, MANIFEST_SIGNATURE_CELL, SHEET_MANIFEST
from cos_xl.validate.ooxml import PackageXml, read_package



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
    #: indicator code -> the value saved in its cell: "" for an empty result, None for none
    cached: dict[str, object] = field(default_factory=dict)


def split_address(address: str) -> tuple[str, int, int]:
    """``Данные!D7`` -> (sheet, row index, column index), 0-based."""
    sheet, cell = xlsxtext.split_address(address)
    row, col = xlsxtext.cell_position(cell, address)
    return sheet, row - 1, col - 1


def _value(package: PackageXml, address: str, raw: bool = False) -> object:
    """The value of a cell: None for an empty one (and, unless ``raw``, for ``""``)."""
    sheet_name, cell_ref = xlsxtext.split_address(address)
    for sheet in package.sheets:
        if sheet.name == sheet_name:
            cell = sheet.cells.get(cell_ref)
            value = cell.value if cell is not None else None
            return None if value == "" and not raw else value
    return None


def returned_from_package(path: Path, package: PackageXml) -> Returned:
    """The manifest and the values of the cells it names, from an already parsed package (one
    read of the file serves the structure check and the values)."""
    text = _value(package, f"{SHEET_MANIFEST}!{MANIFEST_PAYLOAD_CELL}")
    signature = _value(package, f"{SHEET_MANIFEST}!{MANIFEST_SIGNATURE_CELL}")
    text = text if isinstance(text, str) else None
    signature = signature if isinstance(signature, str) else None
    try:
        manifest = json.loads(text) if text else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        return Returned(Path(path), text, signature, None)
    try:
        values = {name: _value(package, address)
                  for name, address in (manifest.get("inputs") or {}).items()}
        explanations = {}
        for rule_id, entry in (manifest.get("checks") or {}).items():
            if isinstance(entry, dict) and "explanation" in entry:
                found = _value(package, entry["explanation"])
                if found is not None and str(found).strip():
                    explanations[rule_id] = str(found).strip()
        # "" is a formula's empty result, None no result saved at all
        cached = {code: _value(package, address, raw=True)
                  for code, address in (manifest.get("indicators") or {}).items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise ReadError(f"{Path(path).name}: манифест указывает на несуществующие ячейки: "
                        f"{exc}") from exc
    return Returned(Path(path), text, signature, manifest, values, explanations, cached)


def read_returned(path: Path) -> Returned:
    """Read a returned workbook's manifest and named cells; ReadError when it is unreadable."""
    try:
        package = read_package(Path(path))
    except ValueError as exc:
        raise ReadError(f"{Path(path).name}: не удалось прочитать книгу: {exc}") from exc
    return returned_from_package(Path(path), package)
