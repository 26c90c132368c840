"""A parser-differential corpus: the validator against LibreOffice on variants of two real
returns, one filled and saved by LibreOffice, one written by XlsxWriter (the generator's
template filled at the XML level, cos_xl.fill).

* An honest variant rewrites the markup only (tests/package_variants.py: ``HONEST``):
  LibreOffice reads every input and indicator as in the plain file, and the validator gives the
  same verdict and findings (its JSON, less the path).
* A disguised edit (``DISGUISED``) changes what an office program reads or shows while
  looking like the plain file to a careless reader: the validator fails the file, or reads
  exactly what LibreOffice reads (inputs, indicators as cached, the edited label) and, for a
  number format, LibreOffice shows the cell as in the plain file.

LibreOffice reads each file through UNO without recalculating (what a person opening it sees);
the displayed text of a cell comes from the same file saved by LibreOffice as .ods.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import DEV_KEY, write
from package_variants import DISGUISED, HONEST, LABEL, shown_in_ods, split_address
from test_validate_values import CLEAN

from cos_xl.fill import cached_values, fill_workbook
from cos_xl.errors import OfficeError
from cos_xl.spec import load_form
from cos_xl.validate.report import to_json
from cos_xl.validate.run import FileResult, validate_file

pytestmark = pytest.mark.libreoffice
FORM = load_form()
NAME = "cos_2020Q3_77.xlsm"
BASES = ["libreoffice", "xlsxwriter"]


def cases(names) -> list:
    """One case per base return and variant, named ``base-variant``."""
    return [pytest.param(base, name, id=f"{base}-{name}") for base in BASES for name in names]


def key(address: str) -> str:
    """``Данные!D6`` -> ``'Данные'!D6``, as LibreOffice is asked for a cell."""
    sheet, cell = split_address(address)
    return f"'{sheet}'!{cell}"


LABEL_KEY = key("!".join(LABEL))


@dataclass
class Base:
    """A plain return: its bytes, what the validator says and what LibreOffice reads."""

    data: bytes
    manifest: dict
    json: dict
    reads: dict[str, object]
    ods: Path


def probes(manifest: dict) -> list[str]:
    """The cells compared: every input, every indicator, the label the corpus edits."""
    return [key(a) for a in manifest["inputs"].values()] + [
        key(a) for a in manifest["indicators"].values()] + [LABEL_KEY]


def _column_ranges(cells: list[str]) -> dict[str, list[str]]:
    """``'Sheet'!D6:D49`` -> the probed cells it covers, top to bottom: one read per column
    instead of one per cell (each read is a round trip to LibreOffice)."""
    rows: dict[tuple[str, str], list[int]] = {}
    for cell in cells:
        sheet, ref = split_address(cell)
        column, row = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
        rows.setdefault((sheet, column), []).append(int(row))
    return {f"'{sheet}'!{column}{min(r)}:{column}{max(r)}":
            [f"'{sheet}'!{column}{n}" for n in range(min(r), max(r) + 1)]
            for (sheet, column), r in rows.items()}


def judged(path: Path) -> tuple[FileResult, dict]:
    result = validate_file(path, DEV_KEY, allow_dev_key=True)
    (entry,) = to_json([result])["files"]
    del entry["path"]
    return result, entry


def read_by_libreoffice(office, path: Path, manifest: dict, ods: Path | None = None
                        ) -> dict[str, object] | str:
    """What LibreOffice reads in the probed cells as it opens the file (no recalculation), or
    why it cannot open it; with ``ods``, the file is also saved there as LibreOffice shows it."""
    wanted = set(probes(manifest))
    ranges = _column_ranges(sorted(wanted))
    try:
        got = office.process(path, read=list(ranges), recalc=False, save_as=ods)
    except OfficeError as exc:
        return f"LibreOffice cannot open it: {exc}"
    out = {}
    for rng, cells in ranges.items():
        column = got[rng] if len(cells) > 1 else [[got[rng]]]
        out.update({cell: row[0] for cell, row in zip(cells, column) if cell in wanted})
    return out


@pytest.fixture(scope="module")
def bases(office, tmp_path_factory) -> dict[str, Base]:
    """The two plain returns of the same template and figures (``CLEAN``)."""
    folder = tmp_path_factory.mktemp("differential")
    template, manifest = write(folder, "template.xlsm")
    made = {base: folder / base / NAME for base in BASES}
    for path in made.values():
        path.parent.mkdir()
    office.process(template, set_values={FORM.excel_name(k): v for k, v in CLEAN.items()},
                   save_as=made["libreoffice"])
    made["xlsxwriter"].write_bytes(fill_workbook(template.read_bytes(), CLEAN))
    out = {}
    for base, path in made.items():
        ods = path.with_suffix(".ods")
        reads = read_by_libreoffice(office, path, manifest, ods)
        assert isinstance(reads, dict), reads
        out[base] = Base(path.read_bytes(), manifest, judged(path)[1], reads, ods)
    return out


def test_the_plain_returns_are_accepted_and_agree(bases):
    for base in bases.values():
        assert base.json["verdict"] == "PASS_WITH_WARNINGS"
        assert [f["code"] for f in base.json["findings"]] == ["target-not-met"]
    lo, xw = bases["libreoffice"], bases["xlsxwriter"]
    assert different(lo.reads, xw.reads) == {}


def _plain(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None if value == "" else value
    return float(value)


def different(ours: dict, theirs: dict) -> dict[str, tuple[object, object]]:
    """The probed cells whose values differ (numbers to 1e-9), as (ours, theirs)."""
    out = {}
    for cell in theirs:
        a, b = _plain(ours.get(cell)), _plain(theirs.get(cell))
        same = a == b or (isinstance(a, float) and isinstance(b, float)
                          and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9))
        if not same:
            out[cell] = (ours.get(cell), theirs.get(cell))
    return out


def variant(tmp_path: Path, base: Base, edit) -> Path:
    path = tmp_path / NAME
    path.write_bytes(edit(base.data))
    return path


# -- honest variants: the same verdict ------------------------------------------------------

#: a pattern whose matches in the package (names, compression, XML) differ between the
#: variant and the plain file: a guard that each rewrite really happened
TELLTALES = {
    "ns-prefix": r"<x:c r=",
    "single-quotes": r"<c r='[A-Z]+\d+'",
    "attribute-order": r"<sheet [^>]*>",
    "breaks-in-tags": r"<c\n\t r=",
    "char-refs": r"<v>&#\d+;",
    "cdata-strings": r"<t[^>]*><!\[CDATA\[",
    "cdata-formulas": r"<f[^>]*><!\[CDATA\[",
    "comments-between": r"</c><!-- cos --><c ",
    "comments-inside": r"<v>\d<!---->\d",
    "pretty-printed": r"\n +<c r=",
    "inline-strings": r't="inlineStr"><is><t',
    "sst-reordered": r"<si>.*?</si>",
    "rows-without-r": r'<row (?![^>]*\br=")[^>]*>',
    "cells-without-r": r'<c (?![^>]*\br=")[^>]*>',
    "booleans-respelled": r"<sheetProtection [^>]*>",
    "zip-reversed": r"== (\S+)",
    "zip-stored": r"== \S+ 0\n",
    "rids-renamed": r'r:id="cos\d+"',
    "parts-renamed": r"== xl/worksheets/page\d\.xml",
}


def dump(data: bytes) -> str:
    """The package as one text: each entry's name and compression, then its XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(
            f"== {info.filename} {info.compress_type}\n"
            + (archive.read(info).decode("utf-8") if info.filename.endswith((".xml", ".rels"))
               else "") + "\n" for info in archive.infolist())


@pytest.mark.parametrize(("base", "case"), cases(HONEST))
def test_honest_variant_rewrites_what_it_says(bases, base, case):
    plain = bases[base].data
    pattern = re.compile(TELLTALES[case], re.DOTALL)
    assert pattern.findall(dump(HONEST[case](plain))) != pattern.findall(dump(plain))


@pytest.mark.parametrize(("base", "case"), cases(HONEST))
def test_honest_variant_gets_the_plain_files_verdict(office, bases, tmp_path, base, case):
    plain = bases[base]
    path = variant(tmp_path, plain, HONEST[case])
    reads = read_by_libreoffice(office, path, plain.manifest)
    assert isinstance(reads, dict), reads
    assert different(reads, plain.reads) == {}, \
        "not an honest variant: LibreOffice reads it otherwise than the plain file"
    result, entry = judged(path)
    assert entry == plain.json, [(f.code, f.sheet, f.cell, f.message) for f in result.findings]


# -- disguised edits: FAIL, or read as LibreOffice reads ---------------------------------------


def read_by_validator(result: FileResult, base: Base) -> dict[str, object]:
    """What the validator took the probed cells to hold: the inputs as it read them; an
    indicator's cached value as its ``indicator-cache-stale`` warning names it, or else (no
    warning) the value it computes from those inputs; the label as issued (a changed one
    would be a finding)."""
    manifest = base.manifest
    reads = {key(a): result.values.get(i) for i, a in manifest["inputs"].items()}
    computed = cached_values(FORM, manifest, result.values)
    stale = {(f.sheet, f.cell): f.value for f in result.findings
             if f.code == "indicator-cache-stale"}
    for address in manifest["indicators"].values():
        reads[key(address)] = stale.get(split_address(address), computed[address])
    reads[LABEL_KEY] = base.reads[LABEL_KEY]
    return reads


@pytest.mark.parametrize(("base", "case"), cases(DISGUISED))
def test_disguised_edit_fails_or_is_read_as_libreoffice_reads_it(
        office, bases, tmp_path, base, case):
    plain = bases[base]
    edit, formatted = DISGUISED[case]
    path = variant(tmp_path, plain, edit)
    ods = tmp_path / "shown.ods"
    reads = read_by_libreoffice(office, path, plain.manifest, ods if formatted else None)
    if formatted:
        shown = shown_in_ods(ods, *formatted)
        assert shown != shown_in_ods(plain.ods, *formatted), "the format disguises nothing"
    result, _ = judged(path)
    if result.verdict == "FAIL":
        return
    findings = [(f.code, f.sheet, f.cell, f.value) for f in result.findings]
    assert isinstance(reads, dict), f"{reads}; the validator passed it: {findings}"
    assert different(read_by_validator(result, plain), reads) == {}, \
        f"the validator (left) passed the file ({findings}) reading what LibreOffice " \
        "(right) does not"
    if formatted:
        sheet, cell = formatted
        pytest.fail(f"the validator passed the file ({findings}) while LibreOffice shows "
                    f"{sheet}!{cell} as «{shown}», not as «{shown_in_ods(plain.ods, *formatted)}»")

