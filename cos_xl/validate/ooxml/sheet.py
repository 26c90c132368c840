"""One worksheet part: its cells, protection, data validations (also the x14 ones of newer
Excel in ``extLst``) and merged ranges.

Read in two steps. :func:`sheet_part` depends on the part's bytes alone — cell references
(explicit or by position), the raw value text and type, the style index, formulas with shared
and array formulas resolved for every cell they cover — and is memoised by those bytes
(:mod:`cos_xl.validate.memo`). :func:`resolve` then gives each cell its value (a shared string
looked up, a number parsed) and its protection and number format from the styles, for this
package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from cos_xl.validate.ooxml.model import CellXml, xml_bool
from cos_xl.validate.ooxml.strings import rich_text
from cos_xl.validate.ooxml.styles import DEFAULT, CellFormat
from cos_xl.validate.ooxml.xml import Element, children, local, main_namespace, parse
from cos_xl.xlsxtext import MAX_ROW, cell_name, cell_position, excel_unescape, range_cells

SHEET_KINDS = ("worksheet", "chartsheet", "macroSheet", "dialogsheet")
_PLAIN_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})$")  # as every writer writes them


class RawCell(NamedTuple):
    ref: str
    style: int  # index into the cellXfs (the s attribute; 0 when absent)
    kind: str  # the t attribute, "n" when absent
    value: str | None  # text of <v>, None without one
    inline: str | None  # text of <is>, None without one
    formula: str | None  # formula text (shared and array formulas resolved), None if none
    formula_type: str | None  # "normal", "shared", "array", "dataTable"; None if none


@dataclass(frozen=True)
class SheetPart:
    kind: str  # root element: worksheet, chartsheet, macroSheet, dialogsheet
    cells: tuple[RawCell, ...]  # with a value, an inline string or a formula
    blanks: tuple[tuple[str, int], ...]  # (ref, style) of the others: inputs if unlocked
    protection: tuple[tuple[str, str], ...] | None  # <sheetProtection> attributes, if any
    validations: tuple[tuple[tuple[str, str | None], ...], ...]
    merged: tuple[str, ...]


def sheet_part(name: str, data: bytes) -> SheetPart:
    """What a worksheet part says by its bytes alone; ValueError naming the part for a broken
    one (a cell twice, a cell outside its row, a shared formula without its master…)."""
    root = parse(name, data)
    kind = local(root)
    if kind not in SHEET_KINDS:
        raise ValueError(f"{name}: root element is <{kind}>, not a sheet")
    ns = main_namespace(root, name, kind)
    cells = _cells(root, ns, name)
    return SheetPart(kind, tuple(c for c in cells if not _empty(c)),
                     tuple((c.ref, c.style) for c in cells if _empty(c)),
                     _protection(root, ns), _validations(root), _merged(root, ns, name))


def _empty(cell: RawCell) -> bool:
    return cell.value is None and cell.inline is None and cell.formula_type is None


def _cells(root: Element, ns: str, part: str) -> tuple[RawCell, ...]:
    c_tag, v_tag, f_tag, is_tag = ns + "c", ns + "v", ns + "f", ns + "is"
    found: dict[str, RawCell] = {}
    masters: dict[str, tuple[str, str]] = {}  # si -> (formula, origin cell)
    followers: list[tuple[str, str]] = []  # (cell, si) of shared formula members
    arrays: list[tuple[str, str]] = []  # (range, formula)
    row_no = 0
    for data in root.iterchildren(ns + "sheetData"):
        for row in data.iterchildren(ns + "row"):
            r_attr = row.get("r")
            try:
                row_no = int(r_attr) if r_attr else row_no + 1
            except ValueError:
                raise ValueError(f"{part}: row number {r_attr!r} is not an integer") from None
            if not 1 <= row_no <= MAX_ROW:
                raise ValueError(f"{part}: row number {row_no} is outside the sheet")
            row_text = str(row_no)
            col_no = 0  # known only after a cell without r (then counted on from the last)
            last = None
            for c in row.iterchildren(c_tag):
                ref = c.get("r")
                if ref:
                    match = _PLAIN_REF.match(ref)
                    if match is None:  # $, lower case, or not a cell: the careful way
                        cell_row, col = cell_position(ref, part)
                        ref = cell_name(cell_row, col)
                    elif match.group(2) != row_text:
                        cell_row = int(match.group(2))
                    else:
                        cell_row = row_no
                    if cell_row != row_no:
                        raise ValueError(f"{part}: cell {ref} is inside row {row_no}")
                    last, col_no = ref, 0
                else:
                    if last is not None:
                        col_no = cell_position(last, part)[1]
                        last = None
                    col_no += 1
                    ref = cell_name(row_no, col_no)
                if ref in found:
                    raise DuplicateCell(part, ref)
                v = f = inline = None
                for child in c:
                    tag = child.tag
                    if tag == v_tag:
                        v = child.text or ""
                    elif tag == f_tag:
                        f = child
                    elif tag == is_tag:
                        inline = rich_text(child, ns)
                formula = ftype = None
                if f is not None:
                    ftype = f.get("t") or "normal"
                    formula = (f.text or "").removeprefix("=")
                    if ftype == "shared":
                        si = f.get("si")
                        if si is None:
                            raise ValueError(f"{part}: the shared formula of {ref} has no si")
                        if f.get("ref") and formula:
                            masters[si] = (formula, ref)
                        elif not formula:
                            followers.append((ref, si))
                    elif ftype == "array":
                        arrays.append((f.get("ref") or ref, formula))
                    elif ftype == "dataTable":
                        formula = None
                style = c.get("s")
                try:
                    index = int(style) if style else 0
                except ValueError:
                    raise ValueError(f"{part}: cell {ref} uses style {style!r}") from None
                found[ref] = RawCell(ref, index, c.get("t") or "n", v, inline, formula, ftype)
    for ref, si in followers:
        master = masters.get(si)
        if master is None:
            raise ValueError(f"{part}: cell {ref} uses shared formula si={si}, which has no "
                             "master cell with its text")
        cell = found[ref]
        found[ref] = RawCell(cell.ref, cell.style, cell.kind, cell.value, cell.inline,
                             translate(master[0], master[1], ref, part), cell.formula_type)
    for area, formula in arrays:  # every cell of an array range shows the formula
        for ref in range_cells(area, part):
            cell = found.get(ref)
            if cell is None:
                found[ref] = RawCell(ref, 0, "n", None, None, formula, "array")
            elif cell.formula is None:
                found[ref] = RawCell(ref, cell.style, cell.kind, cell.value, cell.inline,
                                     formula, "array")
    return tuple(found.values())


class DuplicateCell(ValueError):
    """A cell written twice in one sheet part: two readers could take either copy."""

    def __init__(self, part: str, ref: str, sheet: str | None = None) -> None:
        super().__init__(f"{part}: cell {ref} appears twice")
        self.part, self.ref, self.sheet = part, ref, sheet


def translate(formula: str, origin: str, dest: str, part: str) -> str:
    """A shared formula's text as it reads in another cell of its range."""
    if origin == dest:
        return formula
    from openpyxl.formula.tokenizer import TokenizerError
    from openpyxl.formula.translate import Translator, TranslatorError

    try:
        return Translator("=" + formula, origin=origin).translate_formula(dest)[1:]
    except (TokenizerError, TranslatorError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"{part}: cannot translate the shared formula {formula!r} from "
                         f"{origin} to {dest}: {exc}") from exc


def _protection(root: Element, ns: str) -> tuple[tuple[str, str], ...] | None:
    prot = next(children(root, ns + "sheetProtection"), None)
    return tuple(prot.attrib.items()) if prot is not None else None


def _validations(root: Element) -> tuple[tuple[tuple[str, str | None], ...], ...]:
    """Every <dataValidation>: in <dataValidations>, and the x14 ones in <extLst>."""
    out = []
    for child in root.iterchildren("{*}dataValidations", "{*}extLst"):
        for dv in child.iter("{*}dataValidation"):
            item: dict[str, str | None] = dict(dv.attrib)
            item.setdefault("sqref", None)
            item["formula1"] = item["formula2"] = None
            for sub in children(dv):
                sub_name = local(sub)
                if sub_name in ("formula1", "formula2"):
                    inner = [g for g in children(sub) if local(g) == "f"]
                    item[sub_name] = (inner[0].text if inner else sub.text) or ""
                elif sub_name == "sqref":
                    item["sqref"] = sub.text
            out.append(tuple(item.items()))
    return tuple(out)


def _merged(root: Element, ns: str, part: str) -> tuple[str, ...]:
    out = []
    for parent in children(root, ns + "mergeCells"):
        for mc in children(parent, ns + "mergeCell"):
            ref = mc.get("ref")
            if not ref:
                raise ValueError(f"{part}: a mergeCell without ref")
            out.append(ref)
    return tuple(out)


# -- this package's values ------------------------------------------------------------------------

def resolve(raw: SheetPart, part: str, strings: tuple[str, ...],
            formats: tuple[CellFormat, ...]) -> dict[str, CellXml]:
    """A1 → cell: cells with a value or a formula, and unlocked blanks (the inputs); a locked
    blank is a styled nothing."""
    formats = formats or (DEFAULT,)
    count, string_count = len(formats), len(strings)
    styles = [(fmt.locked, fmt.number_format) for fmt in formats]
    make = tuple.__new__  # CellXml is a named tuple: built without its Python __new__
    cells: dict[str, CellXml] = {}
    unlocked = {i for i, (locked, _nf) in enumerate(styles) if not locked}
    for ref, style in raw.blanks:
        if style in unlocked:
            cells[ref] = make(CellXml, (None, None, False, "n", None, styles[style][1]))
        elif style >= count:
            _no_style(part, ref, style, count)
    for raw_cell in raw.cells:
        ref, style, kind, text, _inline, formula, ftype = raw_cell
        if style >= count:
            _no_style(part, ref, style, count)
        locked, number_format = styles[style]
        if kind == "s" and text and text.isdigit() and int(text) < string_count:
            value = strings[int(text)]
        elif kind == "n" and text and text.strip():
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{part}: cell {ref} has number {text!r}") from None
        else:
            value = _value(raw_cell, part, strings)
        if value is None and ftype is None and locked:
            continue  # a styled blank
        cells[ref] = make(CellXml, (value, formula, locked, kind, ftype, number_format))
    return cells


def _no_style(part: str, ref: str, style: int, count: int) -> None:
    raise ValueError(f"{part}: cell {ref} uses style {str(style)!r}, but the styles part has "
                     f"{count} cellXfs")


def _value(cell: RawCell, part: str, strings: tuple[str, ...]) -> object:
    t, text, ref = cell.kind, cell.value, cell.ref
    if t == "n":
        if text is None or not text.strip():
            return None
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{part}: cell {ref} has number {text!r}") from None
    if t == "s":
        if text is None or not text.strip():
            return None
        try:
            return strings[int(text)]
        except (ValueError, IndexError):
            raise ValueError(f"{part}: cell {ref} refers to shared string {text!r}, but there "
                             f"are {len(strings)}") from None
    if t == "str":
        return excel_unescape(text) if text is not None else None
    if t == "inlineStr":
        if cell.inline is not None:
            return cell.inline
        return excel_unescape(text) if text is not None else None
    if t == "b":
        flag = (text or "").strip().lower()
        if not flag:
            return None
        if flag in ("1", "true"):
            return True
        if flag in ("0", "false"):
            return False
        raise ValueError(f"{part}: cell {ref} has boolean {text!r}")
    if t in ("e", "d"):
        return text.strip() if text and text.strip() else None
    raise ValueError(f"{part}: cell {ref} has unknown type t={t!r}")


def protected(raw: SheetPart) -> bool:
    attrs = dict(raw.protection or ())
    return raw.protection is not None and xml_bool(attrs.get("sheet"))
