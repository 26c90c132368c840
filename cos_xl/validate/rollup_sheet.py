"""The sheet «Свод по МО» of a regional return rolled up from its units (``cos-xl rollup``).

It is provenance, not data: the validator reads nothing from it into the return's values. A
sheet of that name carrying the rollup's marker is set aside from the sheet-list comparison
(as the validator's own «Замечания» is) and read for what the federal team should know: how
many unit returns went into the sums, which units are missing, whether the figures on «Данные»
still equal its totals. A formula on it means it was edited: an error. A sheet of that name
without the marker is just an added sheet (``sheets-changed``).
"""

from __future__ import annotations

from collections.abc import Mapping

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding
from cos_xl.rollup.layout import (
    FIRST_FIGURE_COL, FIRST_UNIT_ROW, MARKER, MARKER_ROW, NAME_COL, NOT_COUNTED, ROLLUP_SHEET,
    STATUS_COL, TOTAL_LABEL,
)
from cos_xl.spec import Form
from cos_xl.validate.ooxml.model import PackageXml, SheetXml
from cos_xl.xlsxtext import cell_name, cell_position, split_address

__all__ = ["ROLLUP_SHEET", "rollup_findings"]


def _rollup_sheet(package: PackageXml) -> SheetXml | None:
    for sheet in package.sheets:
        if sheet.name == ROLLUP_SHEET:
            marker = sheet.cells.get(cell_name(MARKER_ROW, 1))
            return sheet if marker is not None and marker.value == MARKER else None
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _shown(value: float | None) -> str:
    if value is None:
        return "пусто"
    return f"{value:,.0f}".replace(",", "\u00a0") if value.is_integer() else f"{value:g}"


def rollup_findings(package: PackageXml, form: Form, manifest: dict,
                    values: Mapping[str, object]) -> list[Finding] | None:
    """None when the file has no rollup sheet (with the marker); else what it says."""
    sheet = _rollup_sheet(package)
    if sheet is None:
        return None
    where = {"sheet": ROLLUP_SHEET}
    formulas = [ref for ref, cell in sheet.cells.items() if cell.formula is not None]
    if formulas:
        return [finding("rollup-sheet-invalid", detail=f"формула в ячейке {formulas[0]}",
                        **where)]
    cells: dict[tuple[int, int], object] = {}
    for ref, cell in sheet.cells.items():
        cells[cell_position(ref)] = cell.value
    columns = {col: str(value) for (row, col), value in cells.items()
               if row == MARKER_ROW and col >= FIRST_FIGURE_COL and value not in (None, "")}
    total_row = max((row for (row, col), value in cells.items()
                     if col == NAME_COL and row >= FIRST_UNIT_ROW and value == TOTAL_LABEL),
                    default=None)
    inputs = manifest.get("inputs") or {}
    known = {item.id: item for item in form.inputs}
    if total_row is None or not columns or any(
            input_id not in known or known[input_id].kind != "count"
            for input_id in columns.values()):
        return [finding("rollup-sheet-invalid", detail="не найдены столбцы показателей или "
                        "строка «Итого»", **where)]
    states = [str(cells.get((row, STATUS_COL)) or "") for row in range(FIRST_UNIT_ROW, total_row)]
    missing = [row for row, state in zip(range(FIRST_UNIT_ROW, total_row), states, strict=True)
               if state in NOT_COUNTED]
    total = len(states)
    out = [finding("rollup-sheet", counted=total - len(missing), total=total, **where)]
    if missing:
        ids = [str(cells.get((row, 2)) or "") for row in missing]
        out.append(finding("rollup-units-missing", missing=len(missing), total=total,
                           units=", ".join(ids[:10]) + ("…" if len(ids) > 10 else ""),
                           value=len(missing), **where))
    for col, input_id in sorted(columns.items()):
        expected = _number(cells.get((total_row, col)))
        found = _number(values.get(input_id))
        if expected != found and input_id in inputs:
            sheet_name, ref = split_address(inputs[input_id])
            number = form.row_numbers.get(input_id, "")
            label = f"стр. {number} «{known[input_id].short}»" if number else \
                f"«{known[input_id].short}»"
            out.append(finding("rollup-total-differs", sheet=sheet_name, cell=ref,
                               value=values.get(input_id), label=label, found=_shown(found),
                               expected=_shown(expected)))
    return out
