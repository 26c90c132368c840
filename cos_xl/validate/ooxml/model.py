"""What the reader gives: the locked structure of a workbook package as plain, immutable data,
and the rules to compare what different office programs write (protection and validation
attributes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

class CellXml(NamedTuple):
    """One cell (a tuple: the reader builds a thousand per workbook, a tuple is the cheapest
    immutable record)."""

    #: str for shared/inline strings and t="str" formula results, float for numbers, bool for
    #: t="b", the error text ("#DIV/0!") for t="e", the raw text for t="d", None when no value
    value: object
    #: formula text without a leading "=", shared formulas translated for every cell of the
    #: group, array formulas given to every cell of their range; None if no formula
    formula: str | None
    #: effective protection from cellXfs[s] (<protection locked="0"/>); default True
    locked: bool
    #: the raw t attribute: "s", "str", "inlineStr", "b", "e", "n" (default), "d"
    kind: str
    #: the <f t="..."> of the formula: "normal", "shared", "array", "dataTable"; None if none
    formula_type: str | None = None
    #: the number format of its cellXfs entry ("General", "#,##0", a custom code)
    number_format: str = "General"


@dataclass(frozen=True)
class SheetXml:
    name: str
    state: str  # "visible", "hidden", "veryHidden"
    #: A1 -> cell; cells with a value or a formula, plus unlocked blanks (the inputs)
    cells: dict[str, CellXml]
    protected: bool  # <sheetProtection sheet="1"|"true"> present
    protection: dict[str, str]  # all attributes of <sheetProtection>, raw
    #: attributes of every <dataValidation> (also the x14 ones in extLst) plus "sqref",
    #: "formula1", "formula2" (None when absent)
    data_validations: list[dict]
    merged: list[str]  # "A5:F5"
    part: str = ""  # zip member name, "xl/worksheets/sheet1.xml"
    kind: str = "worksheet"  # root element: worksheet, chartsheet, macroSheet, dialogsheet

    def locked(self, ref: str) -> bool:
        """Effective protection of any cell: a cell that is not in ``cells`` (no <c>, or a
        styled blank) is unlocked only if it was kept as an unlocked blank."""
        cell = self.cells.get(ref.replace("$", "").upper())
        return True if cell is None else cell.locked


@dataclass(frozen=True)
class PackageXml:
    sheets: list[SheetXml]  # in workbook order
    #: name -> reference without quotes around sheet names (Данные!$D$7); local names "Sheet!name"
    defined_names: dict[str, str]
    workbook_protection: dict[str, str] | None  # None when absent, {} when present but empty
    vba_project: bytes | None
    content_types: dict[str, str]  # part name ("/xl/workbook.xml") -> content type (Overrides)

    def sheet(self, name: str) -> SheetXml:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)


def xml_bool(value: str | None, default: bool = False) -> bool:
    """An xsd:boolean attribute ("1"/"true"/"0"/"false") as a bool; ``default`` when absent."""
    if value is None:
        return default
    return value.strip().lower() in ("1", "true")


# Defaults of the schema (CT_SheetProtection): True = that action is protected (forbidden).
_PROTECTION_DEFAULTS = {
    "sheet": False, "objects": False, "scenarios": False, "formatCells": True,
    "formatColumns": True, "formatRows": True, "insertColumns": True, "insertRows": True,
    "insertHyperlinks": True, "deleteColumns": True, "deleteRows": True,
    "selectLockedCells": False, "sort": True, "autoFilter": True, "pivotTables": True,
    "selectUnlockedCells": False,
}
_VALIDATION_BOOLS = ("allowBlank", "showDropDown", "showInputMessage", "showErrorMessage")
_TWO_FORMULA_TYPES = ("whole", "decimal", "date", "time", "textLength")


def normalise_protection(attrs: dict[str, str]) -> dict[str, object]:
    """<sheetProtection> attributes as Excel means them, whoever wrote them: every flag of the
    schema as a bool (absent -> its default; "1"/"true" -> True), the legacy ``password`` hash
    upper case (LibreOffice writes it lower case), other attributes (hash algorithm, salt...)
    as they are."""
    out: dict[str, object] = dict(_PROTECTION_DEFAULTS)
    for key, value in attrs.items():
        if key in _PROTECTION_DEFAULTS:
            out[key] = xml_bool(value)
        elif key == "password":
            out[key] = value.strip().upper()
        else:
            out[key] = value
    return out


def normalise_validation(item: dict) -> dict:
    """A data validation as Excel applies it: schema defaults filled in (type "none", operator
    "between", errorStyle "stop", imeMode "noControl"), the flags as bools, ``operator`` and
    ``formula2`` only where the type uses them (LibreOffice writes operator="between" and
    formula2 "0" for every validation)."""
    out = dict(item)
    out.setdefault("type", "none")
    out.setdefault("errorStyle", "stop")
    out.setdefault("imeMode", "noControl")
    for key in _VALIDATION_BOOLS:
        out[key] = xml_bool(out.get(key))
    if out["type"] in _TWO_FORMULA_TYPES:
        out.setdefault("operator", "between")
        if out["operator"] not in ("between", "notBetween"):
            out["formula2"] = None
    else:
        out.pop("operator", None)
        out["formula2"] = None
    return out
