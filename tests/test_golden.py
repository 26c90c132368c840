"""Golden-file comparison, part by part, in the manner of XlsxWriter's comparison tests.

Regenerate after an intended change with ``make golden`` and review the diff of the parts.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from xml.etree.ElementTree import canonicalize

import pytest

from helpers import build

GOLDEN = Path(__file__).parent / "golden" / "cos_2020Q3_77.xlsm"


def parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        out = {}
        for name in archive.namelist():
            raw = archive.read(name)
            if name.endswith((".xml", ".rels")):
                out[name] = canonicalize(raw.decode("utf-8"), strip_text=True)
            else:
                out[name] = raw.hex()
        return out


def test_generated_workbook_matches_golden_file():
    data, _ = build("77", "2020Q3")
    if os.environ.get("COS_XL_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(data)
        pytest.skip("golden file rewritten")
    expected = parts(GOLDEN.read_bytes())
    got = parts(data)
    assert sorted(got) == sorted(expected), "the list of parts differs"
    for name in sorted(expected):
        assert got[name] == expected[name], f"part {name} differs from the golden file"


def test_generation_is_byte_for_byte_deterministic():
    assert build("50")[0] == build("50")[0]


def test_golden_file_changes_when_region_changes():
    assert build("50")[0] != build("77")[0]


def test_xlsx_variant_has_the_same_cells_and_no_vba():
    import openpyxl
    macro, plain = build(macros=True)[0], build(macros=False)[0]
    with zipfile.ZipFile(io.BytesIO(plain)) as archive:
        assert "xl/vbaProject.bin" not in archive.namelist()
    with zipfile.ZipFile(io.BytesIO(macro)) as archive:
        assert "xl/vbaProject.bin" in archive.namelist()
    a = openpyxl.load_workbook(io.BytesIO(macro))
    b = openpyxl.load_workbook(io.BytesIO(plain))
    assert a.sheetnames == b.sheetnames
    assert set(a.defined_names) == set(b.defined_names)
    for ws in a.worksheets:
        if ws.title == "_manifest":
            continue  # carries "macros": true/false and the VBA digests
        cells_a = {c.coordinate: c.value for row in ws.iter_rows() for c in row}
        cells_b = {c.coordinate: c.value for row in b[ws.title].iter_rows() for c in row}
        assert cells_a == cells_b, ws.title
