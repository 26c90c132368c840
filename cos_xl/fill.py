"""Fill a generated template without an office program, in a few ms: as a region would (the
demo, the tests, the benchmarks), and as ``cos-xl rollup`` fills a region's return with its
units' sums.

The input cells and explanation cells named by the workbook's manifest get the values; the
formula cells that depend on them get the values an office program would cache (indicators,
numerators, denominators, statuses, every check of the check sheet and its summary), computed
with :mod:`cos_xl.core`, the same core the validator uses. ``fullCalcOnLoad="1"`` stays set in
the workbook part, so Excel or LibreOffice recalculates everything on open anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from cos_xl import core
from cos_xl.xlsxpatch import ERROR_VALUE, Cached, Constant, PatchError, XlsxPackage
from cos_xl.periods import Period
from cos_xl.spec import Form
from cos_xl.template.layout import CHECK_COLS, IND_COLS
from cos_xl.template.sheet_indicators import note_text, status_text
from cos_xl.validate.expected import form_for

__all__ = ["cached_values", "fill_workbook", "read_manifest"]

INPUT_CHECK_PREFIX = "input:"
# Texts of the check summary (as the template's formulas).
SUMMARY_ERRORS = "Есть ошибки: исправьте их перед отправкой"
SUMMARY_WARNINGS = "Есть предупреждения без пояснений"
SUMMARY_OK = "Ошибок нет, файл можно отправлять"


def read_manifest(data: bytes) -> dict:
    """The manifest of a generated workbook (not verified: filling needs only the cell map)."""
    return json.loads(XlsxPackage(data).manifest_text())


def _column(address: str, column: int) -> str:
    """The cell in the same row as ``address``, in the given 0-based column."""
    sheet, cell = address.rsplit("!", 1)
    row, _ = xl_cell_to_rowcol(cell)
    return f"{sheet}!{xl_rowcol_to_cell(row, column)}"


def _cached(value: object) -> object:
    if value is core.ERROR:
        return ERROR_VALUE
    return value


def _plain(value: object) -> object:
    # As the validator reads a cell: a whole float is a whole number, "" is an empty cell.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None if value == "" else value


def _previous(manifest: dict) -> tuple[dict[str, float], bool]:
    previous = manifest.get("previous") or {}
    values = {k: v for k, v in (previous.get("values") or {}).items() if v is not None}
    same_year = bool(previous.get("period") and manifest.get("period")) and (
        Period.parse(previous["period"]).year == Period.parse(manifest["period"]).year)
    return values, same_year


def cached_values(form: Form, manifest: dict, inputs: Mapping[str, object],
                  explanations: Mapping[str, str] = {}) -> dict[str, object]:
    """``Sheet!A1`` -> the value an office program computes for every formula cell that
    depends on the inputs: indicators (value, numerator, denominator, native formula, status,
    a share's note) and the check sheet (each check, its code column, the summary). Errors are ERROR_VALUE."""
    names = manifest.get("names") or {}
    targets = manifest.get("targets") or {}
    prev_values, same_year = _previous(manifest)
    ns = core.namespace(form, inputs, prev_values, same_year)
    out: dict[str, object] = {}
    for ind in form.indicators:
        spec = ind.spec
        address = names[spec.name]
        value = ns[spec.name]
        out[address] = out[_column(address, IND_COLS["native"])] = _cached(value)
        out[names[spec.num_name]] = _cached(ns[spec.num_name])
        if ind.denominator is not None:
            out[names[spec.den_name]] = _cached(ns[spec.den_name])
            out[_column(address, IND_COLS["note"])] = note_text(ns[spec.den_name],
                                                                spec.national_note)
        status = (ERROR_VALUE if value is core.ERROR
                  else status_text(value, targets.get(spec.code)))
        out[_column(address, IND_COLS["status"])] = status

    problems = core.check_inputs(form, inputs)
    rules = {rule.id: rule for rule in form.rules}
    errors = warnings = 0
    for check_id, entry in (manifest.get("checks") or {}).items():
        if check_id.startswith(INPUT_CHECK_PREFIX):
            code, message = problems.get(check_id.removeprefix(INPUT_CHECK_PREFIX), ("", core.OK))
            out[_column(entry["result"], CHECK_COLS["code"])] = code
            severity = "error"
        else:
            rule = rules[check_id]
            message = core.evaluate_rule(form, rule, ns).message
            severity = rule.severity
        out[entry["result"]] = message
        if message != core.OK:
            if severity == "error":
                errors += 1
            elif severity == "warning" and not (explanations.get(check_id) or "").strip():
                warnings += 1
    if "CHECK_ERRORS" in names:
        out[names["CHECK_ERRORS"]] = errors
        out[names["CHECK_WARNINGS"]] = warnings
        out[names["CHECK_STATUS"]] = (SUMMARY_ERRORS if errors else SUMMARY_WARNINGS
                                      if warnings else SUMMARY_OK)
    return out


def fill_workbook(template_bytes: bytes, values: Mapping[str, object],
                  explanations: Mapping[str, str] | None = None, *,
                  recalculate: bool = True) -> bytes:
    """The template with ``values`` (input id -> int/float, str, or None for an empty cell)
    typed into its input cells and ``explanations`` (rule instance id -> text) into the
    explanation cells of the check sheet. Numbers are written as numbers and texts as texts,
    exactly as given: ``"1 234"`` in a count cell stays a text, as when a person types it.

    With ``recalculate`` (the default) the formula cells get the values an office program would
    compute, so a reader that does not recalculate sees the right indicators and checks.
    Raises PatchError when the template is not a cos-xl workbook or an id is unknown."""
    explanations = dict(explanations or {})
    book = XlsxPackage(template_bytes)
    manifest = json.loads(book.manifest_text())
    inputs = manifest.get("inputs") or {}
    checks = manifest.get("checks") or {}
    changes: dict[str, Constant | Cached] = {}
    for input_id, value in values.items():
        if input_id not in inputs:
            raise PatchError(f"unknown input {input_id!r}: not in the workbook's manifest")
        changes[inputs[input_id]] = Constant(value)
    for rule_id, text in explanations.items():
        address = (checks.get(rule_id) or {}).get("explanation")
        if address is None:
            raise PatchError(f"{rule_id!r}: the check sheet has no explanation cell for it")
        changes[address] = Constant(text)
    if recalculate:
        form = form_for(manifest)
        typed = {input_id: _plain(values.get(input_id)) for input_id in inputs}
        for address, value in cached_values(form, manifest, typed, explanations).items():
            changes.setdefault(address, Cached(value))
    book.set_cells(changes)
    book.ensure_full_calc_on_load()
    return book.to_bytes()
