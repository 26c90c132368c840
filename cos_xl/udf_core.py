"""What the ``COS_*`` worksheet functions compute, as plain functions over plain values.

The xlwings layer (:mod:`cos_xl.udfs`) only declares the functions for Excel and, when a
function is typed without arguments, reads the calling workbook through a :class:`BookReader`.
Everything here is testable without Excel and runs the same core as the validator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol

from cos_xl import __version__, core
from cos_xl.errors import CosXlError
from cos_xl.findings import SEVERITY_RU
from cos_xl.findings_catalogue import severity_of
from cos_xl.spec import Form, available_forms, load_form
from cos_xl.spec.form import PREV_SAME_YEAR
from cos_xl.template.layout import MANIFEST_PAYLOAD_CELL, SHEET_MANIFEST

CHECK_HEADER = ["Код", "Вид", "Ячейка", "Сообщение"]


class UdfError(CosXlError):
    """A COS_* function cannot compute (Excel shows the error; IFERROR falls back)."""


class BookReader(Protocol):
    """Reads the calling workbook: a defined name's value and a cell's value."""

    def name_value(self, name: str) -> object: ...

    def cell_value(self, sheet: str, cell: str) -> object: ...


def _number(value: object) -> object:
    # Excel hands over whole numbers as floats; keep them whole for messages.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def form_of(book: BookReader | None) -> Form:
    """The form of the calling workbook (from its manifest), else the default form."""
    manifest = manifest_of(book)
    if manifest and manifest.get("form_id"):
        for name in available_forms():
            form = load_form(name)
            if form.id == manifest["form_id"]:
                return form
        raise UdfError(f"Форма {manifest['form_id']!r} этой книги неизвестна версии cos-xl "
                       f"{__version__} (unknown form)")
    return load_form()


def manifest_of(book: BookReader | None) -> dict | None:
    if book is None:
        return None
    try:
        text = book.cell_value(SHEET_MANIFEST, MANIFEST_PAYLOAD_CELL)
        return json.loads(text) if isinstance(text, str) else None
    except (KeyError, ValueError, AttributeError):
        return None


def read_inputs(form: Form, book: BookReader, names: list[str] | None = None) -> dict:
    """Values of the form's inputs in the calling workbook, by their defined names."""
    wanted = names if names is not None else [item.id for item in form.inputs]
    return {name: _number(book.name_value(form.excel_name(name))) for name in wanted}


def indicator(code: str, args: Mapping[str, object], book: BookReader | None = None) -> object:
    """An indicator's value: from the arguments, or, when all are omitted, from the workbook's
    named inputs. A share with a zero denominator gives "" (an empty cell), as the native
    formula does."""
    form = form_of(book) if book is not None else load_form()
    ind = form.indicator_by_code[code]
    values = {name: _number(args.get(name)) for name in ind.arguments}
    if book is not None and all(value is None for value in values.values()):
        values = read_inputs(form, book, ind.arguments)
    result = core.namespace(form, values)[ind.spec.name]
    if result is core.ERROR:
        bad = {k: v for k, v in values.items() if isinstance(v, str) and v.strip()}
        raise UdfError(f"{code}: не число в исходных данных {bad} (#VALUE!)")
    return "" if result is None else result


def previous_of(form: Form, book: BookReader) -> tuple[dict[str, object], bool]:
    previous = {ind.spec.code: _number(book.name_value(ind.spec.prev_name))
                for ind in form.indicators}
    return previous, book.name_value(PREV_SAME_YEAR) == 1


def check_rows(form: Form, inputs: Mapping[str, object], previous: Mapping[str, object],
               prev_same_year: bool, manifest: Mapping | None = None,
               explanations: Mapping[str, str] | None = None) -> list[list[str]]:
    """The findings the federal validator's rules give for these values, as a table with a
    header row: code, severity (Russian), cell, message. Explained warnings are left out."""
    manifest = manifest or {}
    explanations = explanations or {}
    cells = manifest.get("names", {})
    rows = [CHECK_HEADER]
    for input_id, (code, message) in core.check_inputs(form, inputs).items():
        rows.append([code, SEVERITY_RU[severity_of(code)], cells.get(input_id, input_id),
                     message])
    ns = core.namespace(form, inputs, {k: v for k, v in previous.items() if v not in (None, "")},
                        prev_same_year)
    for result in core.evaluate_rules(form, ns):
        if result.status not in ("fail", "not-evaluated"):
            continue
        rule = result.rule
        if rule.severity == "warning" and str(explanations.get(rule.id) or "").strip():
            continue
        rows.append([rule.code, SEVERITY_RU[rule.severity], cells.get(rule.target, rule.target),
                     result.message])
    if len(rows) == 1:
        rows.append(["OK", "", "", "Ошибок нет"])
    return rows


def check_book(book: BookReader) -> list[list[str]]:
    """``COS_CHECK()``: the validator's rules over the calling workbook."""
    form = form_of(book)
    manifest = manifest_of(book) or {}
    inputs = read_inputs(form, book)
    previous, same_year = previous_of(form, book)
    explanations = {}
    for rule_id, entry in manifest.get("checks", {}).items():
        if "explanation" in entry:
            sheet, cell = entry["explanation"].rsplit("!", 1)
            explanations[rule_id] = book.cell_value(sheet, cell)
    return check_rows(form, inputs, previous, same_year, manifest, explanations)


def target(code: str, book: BookReader | None = None) -> object:
    """``COS_TARGET(code)``: the target of an indicator in this workbook's campaign."""
    manifest = manifest_of(book) or {}
    form = form_of(book)
    code = str(code).strip()
    if code not in form.indicator_by_code:
        raise UdfError(f"Неизвестный код показателя {code!r}; известны: "
                       + ", ".join(form.indicator_by_code))
    targets = manifest.get("targets") or {
        c: i.spec.target for c, i in form.indicator_by_code.items() if i.spec.target is not None}
    value = targets.get(code)
    return "" if value is None else value


def version(book: BookReader | None = None) -> str:
    """``COS_VERSION()``: the cos-xl version and the form of the workbook."""
    form = form_of(book)
    return f"cos-xl {__version__}; форма {form.id} {form.version}"
