"""The locked structure of a returned workbook against the structure it was issued with.

Compared in a normalised form, so that a workbook merely opened, filled and saved in Excel or
LibreOffice passes (LibreOffice rewrites styles, cached values, quoting of sheet names and the
case of unknown function names), while a formula pasted over with a value, an edited label, an
inserted or deleted row, a renamed, removed or added sheet, removed protection, a changed name or
a replaced VBA project is caught.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding, more_like
from cos_xl.rules.inputs import fmt_number
from cos_xl.validate import memo
from cos_xl.validate.annotation import ANNOTATION_SHEET
from cos_xl.validate.expected import Expected
from cos_xl.validate.ooxml import PackageXml
from cos_xl.vba.stomping import compiled_project, stomped_in

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_STRING = re.compile(r'"(?:[^"]|"")*"')


@lru_cache(maxsize=8192)
def normalise_formula(formula: str) -> str:
    """Case, spaces, ``_xlfn.`` prefixes, ``$`` and sheet-name quotes do not matter; texts in
    quotes stay as they are (they are the Russian messages)."""
    out, pos = [], 0
    text = formula.lstrip("=")
    for match in _STRING.finditer(text):
        out.append(_code(text[pos:match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_code(text[pos:]))
    return "".join(out)


def _code(part: str) -> str:
    part = part.replace(" ", "").replace("$", "").upper().replace("_XLFN.", "")
    return re.sub(r"'([^']+)'!", r"\1!", part)


@lru_cache(maxsize=8192)
def normalise_ref(ref: str) -> str:
    return _code(ref.lstrip("="))


def _shown(value: object) -> str:
    """A cell's value in a message: ``100`` and ``12,5``, not ``100.0`` and ``12.5``."""
    if isinstance(value, float):
        return fmt_number(value)
    return "" if value is None else str(value)


def _blank(value: object) -> bool:
    return value is None or value == ""


def _same_value(kind: str, expected: str, got: object) -> bool:
    if kind in ("s", "m"):
        text = expected.split(":", 1)[1] if kind == "m" else expected
        return (_blank(text) and _blank(got)) or got == text
    if kind == "n":
        return isinstance(got, int | float) and abs(float(got) - float(expected)) < 1e-9
    if kind == "d":
        serial = (dt.date.fromisoformat(expected[:10]) - _EXCEL_EPOCH).days
        return isinstance(got, int | float) and abs(float(got) - serial) < 1e-9
    if kind == "b":
        return _blank(got)
    return True


def integrity_findings(package: PackageXml, expected: Expected, manifest: dict,
                       vba_digests: dict[str, str] | None = None,
                       annotation_sealed: bool | None = None,
                       set_aside: tuple[str, ...] = ()) -> list[Finding]:
    """Findings for the structure; ``vba_digests`` are SHA-256 of the file's VBA module
    sources when its vbaProject.bin differs from the one issued (read with olevba);
    ``annotation_sealed`` says whether the file's added sheet «Замечания» carries the
    validator's valid seal (None: the file has no such sheet); ``set_aside`` names other added
    sheets judged elsewhere (the rollup's «Свод по МО»)."""
    findings: list[Finding] = []
    names = [sheet.name for sheet in package.sheets
             if sheet.name not in set_aside or sheet.name in expected.sheets]
    if annotation_sealed is not None and ANNOTATION_SHEET not in expected.sheets:
        names = [name for name in names if name != ANNOTATION_SHEET]
        findings.append(finding(
            "annotation-sheet-kept" if annotation_sealed else "annotation-sheet-changed",
            sheet=ANNOTATION_SHEET))
    if names != expected.sheets:
        findings.append(finding("sheets-changed", value=names,
                                expected=", ".join(expected.sheets), found=", ".join(names)))
    sheets = {sheet.name: sheet for sheet in package.sheets}
    for name in expected.sheets:
        sheet = sheets.get(name)
        if sheet is not None and not sheet.protected:
            findings.append(finding("sheet-unprotected", sheet=name))
    if package.workbook_protection is None:
        findings.append(finding("workbook-unprotected"))

    validated = {name: _validated(sheet) for name, sheet in sheets.items()}
    for index in _suspects(expected, sheets):
        sheet_name, cell_ref, kind, content = expected.records[index]
        sheet = sheets.get(sheet_name)
        if sheet is None:
            continue  # reported as sheets-changed
        cell = sheet.cells.get(cell_ref)
        value = cell.value if cell else None
        formula = cell.formula if cell else None
        where = {"sheet": sheet_name, "cell": cell_ref}
        if kind == "input":
            if formula:
                findings.append(finding("formula-in-input", value=f"={formula}", **where))
            elif cell is not None and not plain_number_format(cell.number_format):
                findings.append(finding("input-number-format", value=cell.number_format,
                                        **where))
            continue
        if kind == "f":
            if not formula:
                findings.append(finding("formula-replaced", value=value, shown=_shown(value),
                                        **where))
            elif formula != content and normalise_formula(formula) != normalise_formula(content):
                findings.append(finding("formula-changed", value=f"={formula}", **where))
            continue
        if kind == "v":
            if cell_ref not in validated[sheet_name]:
                findings.append(finding("validation-removed", **where))
            continue
        if formula or not _same_value(kind, content, value):
            shown = f"={formula}" if formula else ("пусто" if _blank(value) else _shown(value))
            wanted = content.split(":", 1)[1] if kind == "m" else content
            findings.append(finding("label-changed", value=value, found=shown,
                                    wanted=wanted or "пусто", **where))

    file_names = {name: normalise_ref(ref) for name, ref in package.defined_names.items()}
    for name, ref in expected.names.items():
        if file_names.get(name) != normalise_ref(ref):
            findings.append(finding(
                "name-changed", name=name, value=package.defined_names.get(name),
                wanted=ref.lstrip("="), found=package.defined_names.get(name, "нет")))

    findings += _vba_findings(package, expected, manifest, vba_digests)
    findings += _stomping_findings(package, manifest, vba_digests)
    return _limit_per_code(findings)


def _suspects(expected: Expected, sheets: dict) -> list[int]:
    """The indexes of the records that may give a finding, in order. Labels, formulas, inputs,
    numbers and blanks as they were issued (most of a workbook) are passed over in bulk, and a
    group whose cells are the very objects found clean before is passed over at once; the
    region's own records and every other kind are suspects, to be judged one by one."""
    suspects = list(expected.marked)
    for group in expected.groups:
        sheet_name, kind, indexes, refs, contents = group
        sheet = sheets.get(sheet_name)
        if sheet is None:
            continue  # no findings for the cells of a missing sheet
        got = tuple(map(sheet.cells.get, refs))
        if kind == "s":
            suspects += [i for i, cell, want in zip(indexes, got, contents)
                         if cell is None or cell.value != want or cell.formula is not None
                         or not want]
        elif kind == "f":
            suspects += [i for i, cell, want in zip(indexes, got, contents)
                         if cell is None or cell.formula != want or not want]
        elif kind == "input":
            suspects += [i for i, cell in zip(indexes, got) if cell is not None and (
                cell.formula or not plain_number_format(cell.number_format))]
        elif kind == "n":  # exactly the number issued (else the tolerance is for the judge)
            suspects += [i for i, cell, want in zip(indexes, got, contents)
                         if cell is None or cell.formula is not None
                         or type(cell.value) is not float or cell.value != float(want)]
        elif kind == "b":
            suspects += [i for i, cell in zip(indexes, got)
                         if cell is not None and (cell.formula is not None
                                                  or not _blank(cell.value))]
        else:
            suspects += indexes
    suspects.sort()
    return suspects


_PLAIN_SECTION = re.compile(r"[#0,.\s\u00a0-]*")


def plain_number_format(code: str) -> bool:
    """Whether a number format shows an input's number as it is: General, text, or digits with
    grouping and decimals. A format with literal text or digits ("999"), a scale, a condition,
    a date or hidden sections (``0;;;``) could show another number than the one stored."""
    if code in ("General", "@", "0", "#,##0", "# ##0", "0.00", "#,##0.00"):
        return True
    sections = code.split(";")
    if len(sections) > 2:
        return False
    return all(section.strip() and _PLAIN_SECTION.fullmatch(section) for section in sections)


def _validated(sheet) -> set[str]:
    cells: set[str] = set()
    for dv in sheet.data_validations:
        for part in str(dv.get("sqref", "")).split():
            cells.add(part.split(":")[0].replace("$", ""))
    return cells


def _vba_findings(package: PackageXml, expected: Expected, manifest: dict,
                  vba_digests: dict[str, str] | None) -> list[Finding]:
    if not manifest.get("macros"):
        if package.vba_project:
            return [finding("vba-added")]
        return []
    if vba_digests is None:
        return []  # the project is byte for byte the one issued
    if not package.vba_project:  # saved as .xlsx, or macros dropped: not a figure changes
        return [finding("macros-removed")]
    missing = {name for name, digest in expected.vba.items() if vba_digests.get(name) != digest}
    if missing:
        return [finding("vba-changed", modules=", ".join(sorted(missing)) or "все")]
    return []


def _stomping_findings(package: PackageXml, manifest: dict,
                       vba_digests: dict[str, str] | None) -> list[Finding]:
    """A project other than the one issued (which has no p-code) whose compiled code says
    something else than its source: the source comparison cannot see what Excel would run."""
    if not manifest.get("macros") or vba_digests is None or not package.vba_project:
        return []
    compiled = memo.by_bytes("vba-compiled", package.vba_project, compiled_project)
    if compiled is None:  # no p-code (as we issue it, as LibreOffice saves it)
        return []
    # remembered by the compiled parts too (the key holds all of them), as every save writes
    # the PROJECT stream anew
    stomped = memo.by_bytes("vba-stomped", compiled.key(), lambda _: stomped_in(compiled))
    return [finding("vba-stomped", "many" if len(module.unmatched) > 5 else None,
                    value=module.name, names=", ".join(module.unmatched[:5]))
            for module in stomped]


# A row inserted at the top shifts hundreds of cells; the first few say enough.
_MAX_PER_CODE = 20


def _limit_per_code(findings: list[Finding]) -> list[Finding]:
    out, counts = [], {}
    for found in findings:
        counts[found.code] = counts.get(found.code, 0) + 1
        if counts[found.code] <= _MAX_PER_CODE:
            out.append(found)
        elif counts[found.code] == _MAX_PER_CODE + 1:
            out.append(more_like(found, _MAX_PER_CODE))
    return out
