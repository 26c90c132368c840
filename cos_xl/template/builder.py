"""Build one regional workbook in memory: sheets, defined names, protection, signed manifest.

The steps read in order: styles, sheets, names, protection, manifest, structure lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

from cos_xl import __version__, core
from cos_xl.signing import SigningKey, canonical_json, sign
from cos_xl.template.context import TemplateContext
from cos_xl.template.layout import (
    MANIFEST_PAYLOAD_CELL, MANIFEST_SIGNATURE_CELL, SHEET_CHECKS, SHEET_DATA, SHEET_INDICATORS,
    SHEET_INSTRUCTIONS, SHEET_MANIFEST, SHEET_TITLE, SHEET_XLWINGS, SHEETS,
)
from cos_xl.template.sheet_checks import write_checks
from cos_xl.template.sheet_data import write_data
from cos_xl.template.sheet_indicators import write_indicators
from cos_xl.template.sheet_instructions import write_instructions
from cos_xl.template.sheet_title import write_title
from cos_xl.template.styles import make_styles
from cos_xl.template.writer import ProtectedWorkbook, Sheet
from cos_xl.vba import build_vba_project, wrappers

MANIFEST_SCHEMA = "cos-xl/manifest/1"
XLWINGS_SETTINGS = {"UDF Modules": "cos_xl.udfs"}
SHEET_PROTECTION = {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True}


@dataclass(frozen=True)
class Built:
    data: bytes
    payload: dict
    #: Canonical JSON of the locked structure; its SHA-256 is the manifest's structure digest.
    structure_text: str


@dataclass(frozen=True)
class ManifestPlaceholders:
    """Texts written instead of the signed manifest, for a skeleton that is filled in later."""

    payload: str
    signature: str
    digest: str


def build_workbook(ctx: TemplateContext, key: SigningKey) -> tuple[bytes, dict]:
    """The workbook's bytes and its manifest payload. Deterministic for the same context."""
    built = build(ctx, key)
    return built.data, built.payload


def build(ctx: TemplateContext, key: SigningKey,
          placeholders: ManifestPlaceholders | None = None, package: bool = True) -> Built:
    """Build one workbook; with ``placeholders`` the manifest cells get those texts instead.
    ``package=False`` stops before the file is assembled (the validator needs only the
    structure and the manifest payload): ``data`` is then empty."""
    buffer = io.BytesIO()
    wb = ProtectedWorkbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                    "strings_to_formulas": False, "strings_to_urls": False})
    issued = dt.datetime.combine(ctx.issued, dt.time(0, 0))
    owner = ctx.region.full_name if ctx.unit is None else f"{ctx.unit.name}, {ctx.region.full_name}"
    wb.set_properties({
        "title": f"{ctx.form.spec.form.title}: {owner}, {ctx.period}",
        "subject": ctx.form.spec.form.basis, "author": "cos-xl", "company": "",
        "comments": f"cos-xl {__version__}", "created": issued,
    })
    st = make_styles(wb)
    structure: list[list[str]] = []
    sheets = {name: Sheet(wb.add_worksheet(name), structure) for name in SHEETS}
    names: dict[str, str] = {}
    cells: dict[str, str] = {}
    checks: dict[str, dict[str, str]] = {}
    list_names: dict[str, str] = {}

    # Cached values are what the Python core computes for the template as issued (inputs
    # empty), so that a viewer that does not recalculate still shows consistent cells.
    ns = core.namespace(ctx.form, {}, ctx.previous, ctx.prev_same_year)
    cached = {k: v for k, v in ns.items() if v is not None}
    write_instructions(sheets[SHEET_INSTRUCTIONS], ctx, st, names, list_names)
    write_title(sheets[SHEET_TITLE], ctx, st, names, cells)
    write_data(sheets[SHEET_DATA], ctx, st, names, cells, list_names)
    write_indicators(sheets[SHEET_INDICATORS], ctx, st, names, cells, cached)
    write_checks(sheets[SHEET_CHECKS], ctx, st, names, checks,
                 core.check_inputs(ctx.form, {}), core.evaluate_rules(ctx.form, ns))
    write_xlwings_conf(sheets[SHEET_XLWINGS])

    defined = {ctx.form.excel_name(name): target for name, target in names.items()}
    for name in sorted(defined):
        wb.define_name(name, "=" + defined[name])
    for sheet in sheets.values():
        sheet.ws.protect(ctx.password, SHEET_PROTECTION)
        sheet.ws.set_paper(9)  # A4, landscape, one page wide: regions print these
        sheet.ws.set_landscape()
        sheet.ws.fit_to_pages(1, 0)
    sheets[SHEET_TITLE].ws.activate()
    sheets[SHEET_INSTRUCTIONS].ws.set_first_sheet()

    vba = vba_modules() if ctx.macros else {}
    if ctx.macros:
        wb.add_vba_project(io.BytesIO(vba_project()), is_stream=True)
        wb.set_vba_name("ThisWorkbook")
    structure_text = structure_json(structure, defined, vba)
    payload = manifest_payload(ctx, key, sha256_text(structure_text), names, cells, checks)
    payload["vba_modules"] = {name: sha256_text(wrappers.normalised_source(source))
                              for name, source in vba.items()}
    if not package:
        return Built(b"", payload, structure_text)
    if placeholders is None:
        text = canonical_json(payload)
        texts = ManifestPlaceholders(text, sign(text, key), payload["structure_digest"])
    else:
        texts = placeholders
    _write_manifest(sheets[SHEET_MANIFEST], payload, texts, key)
    wb.protect_structure(ctx.password)
    wb.close()
    return Built(buffer.getvalue(), payload, structure_text)


def write_xlwings_conf(sheet: Sheet) -> None:
    """The xlwings add-in's settings sheet: where the UDFs live (hidden, locked)."""
    sheet.ws.set_column(0, 1, 24)
    for row, (key, value) in enumerate(XLWINGS_SETTINGS.items()):
        sheet.text(row, 0, key)
        sheet.text(row, 1, value)
    sheet.ws.hide()


def structure_json(structure: list[list[str]], defined: dict[str, str],
                   vba: dict[str, str]) -> str:
    """The locked structure as canonical JSON: sheet list, locked cells (labels, formulas,
    prefilled values), data validations, defined names, protection settings and the digests
    of the VBA modules we wrote."""
    return canonical_json({"sheets": list(SHEETS), "cells": structure, "names": defined,
                           "protection": sorted(SHEET_PROTECTION),
                           "vba": {name: sha256_text(wrappers.normalised_source(src))
                                   for name, src in sorted(vba.items())}})


def vba_modules() -> dict[str, str]:
    """Our own VBA modules (the xlwings standalone modules come with the project)."""
    return {wrappers.MODULE_NAME: wrappers.module_source()}


@lru_cache(maxsize=1)
def vba_project() -> bytes:
    """The vbaProject.bin of every .xlsm: built once per process (it is the same for all)."""
    return build_vba_project(vba_modules(), sheet_count=len(SHEETS))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_payload(ctx: TemplateContext, key: SigningKey, structure_digest: str,
                     names: dict[str, str], cells: dict[str, str],
                     checks: dict[str, dict[str, str]]) -> dict:
    form = ctx.form
    level = {} if ctx.unit is None else {"level": "unit", "unit": ctx.unit.as_dict()}
    return {
        **level,
        "schema": MANIFEST_SCHEMA,
        "template_id": f"{form.id}:{ctx.period}:{ctx.region.code}" + (
            f":{ctx.unit.unit_id}" if ctx.unit is not None else ""),
        "form_id": form.id,
        "form_version": form.version,
        "region_code": ctx.region.code,
        "region_name": ctx.region.full_name,
        "period": str(ctx.period),
        "issued": ctx.issued.isoformat(),
        "deadline": ctx.deadline.isoformat(),
        "generator": f"cos-xl {__version__}",
        "macros": ctx.macros,
        "dev_key": key.dev,
        "structure_digest": structure_digest,
        "inputs": {item.id: cells[item.id] for item in form.inputs},
        "names": {name: plain_address(target) for name, target in sorted(names.items())},
        "indicators": {ind.spec.code: cells[ind.spec.name] for ind in form.indicators},
        "checks": checks,
        "targets": {code: ctx.targets[code] for code in sorted(ctx.targets)},
        "contact": ctx.contact.model_dump(),
        "previous": {"period": str(ctx.previous_period) if ctx.previous_period else None,
                     "values": dict(sorted(ctx.previous.items()))},
    }


def plain_address(reference: str) -> str:
    """``'Данные'!$D$7`` -> ``Данные!D7``: how the manifest names cells."""
    sheet, cells = reference.rsplit("!", 1)
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return f"{sheet}!{cells.replace('$', '')}"


def _write_manifest(sheet: Sheet, payload: dict, texts: ManifestPlaceholders,
                    key: SigningKey) -> None:
    ws = sheet.ws
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 80)
    ws.write_string(MANIFEST_PAYLOAD_CELL.replace("B", "A"), "manifest")
    ws.write_string(MANIFEST_PAYLOAD_CELL, texts.payload)
    ws.write_string(MANIFEST_SIGNATURE_CELL.replace("B", "A"), "signature (HMAC-SHA256)")
    ws.write_string(MANIFEST_SIGNATURE_CELL, texts.signature)
    readable = [("form", f"{payload['form_id']} {payload['form_version']}"),
                ("region", payload["region_code"]), ("period", payload["period"]),
                ("structure", texts.digest),
                ("key", "development key" if key.dev else
                 "regional key" if payload.get("unit") else "federal key")]
    if payload.get("unit"):
        readable.insert(2, ("unit", payload["unit"]["id"]))
    for row, (label, value) in enumerate(readable, start=3):
        ws.write_string(row, 0, label)
        ws.write_string(row, 1, value)
    ws.very_hidden()
