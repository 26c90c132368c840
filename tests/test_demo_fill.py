"""Filling a template without an office program: the validator passes the file, only the cells
that change are rewritten, every other zip member is copied byte for byte, and the values cached
in the formula cells are the core's."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from helpers import DEV_KEY, build

from cos_xl import core
from cos_xl.fill import cached_values, fill_workbook, read_manifest
from cos_xl.demo.sample import sample_inputs, target_not_met_rule
from cos_xl.xlsxpatch import ERROR_VALUE, PatchError, XlsxPackage, replace_members
from cos_xl.spec import load_form
from cos_xl.validate.ooxml import read_package
from cos_xl.validate.run import validate_file

FORM = load_form()
SAMPLE = sample_inputs("2020Q3", 0)
# A region whose sites are below 100 % and one where they are complete.
BELOW = next(c for c, v in SAMPLE.items() if v["e40105_go"] + v["e40105_do"]
             < v["orgs_go"] + v["orgs_do"])
FULL = next(c for c, v in SAMPLE.items() if v["e40105_go"] == v["orgs_go"]
            and v["e40105_do"] == v["orgs_do"])


@pytest.fixture(scope="module")
def templates():
    return {code: build(region=code)[0] for code in (BELOW, FULL)} | {
        "xlsx": build(region=FULL, macros=False)[0]}


def validate(tmp_path: Path, data: bytes, name: str = "returned.xlsm"):
    path = tmp_path / name
    path.write_bytes(data)
    return validate_file(path, DEV_KEY, allow_dev_key=True)


def keys(result):
    return sorted((f.code, f.severity, f.sheet, f.cell) for f in result.findings)


def test_clean_region_passes(templates, tmp_path):
    result = validate(tmp_path, fill_workbook(templates[FULL], SAMPLE[FULL]))
    assert (result.verdict, keys(result)) == ("PASS", [])
    assert result.region_code == FULL
    assert result.values["students_go"] == SAMPLE[FULL]["students_go"]
    assert result.values["resp_name"] == SAMPLE[FULL]["resp_name"]


def test_sites_below_target_warns_and_an_explanation_makes_it_info(templates, tmp_path):
    data = fill_workbook(templates[BELOW], SAMPLE[BELOW])
    assert keys(validate(tmp_path, data)) == [
        ("target-not-met", "warning", "Показатели", "E11")]
    text = {target_not_met_rule(FORM): "Сайты обновляются, срок — 15.11.2020"}
    result = validate(tmp_path, fill_workbook(templates[BELOW], SAMPLE[BELOW], text))
    assert result.verdict == "PASS"
    assert keys(result) == [("target-not-met", "info", "Показатели", "E11")]
    assert "Сайты обновляются" in result.findings[0].message


def test_xlsx_template_too(templates, tmp_path):
    result = validate(tmp_path, fill_workbook(templates["xlsx"], SAMPLE[FULL]), "r.xlsx")
    assert (result.verdict, keys(result)) == ("PASS", [])


def _raw_members(data: bytes) -> dict[str, bytes]:
    """Each member's local header and compressed data, as stored."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            start = info.header_offset
            name_len, extra_len = int.from_bytes(data[start + 26: start + 28], "little"), \
                int.from_bytes(data[start + 28: start + 30], "little")
            out[info.filename] = data[start: start + 30 + name_len + extra_len
                                      + info.compress_size]
    return out


def test_only_the_changed_members_are_rewritten(templates):
    template = templates[FULL]
    filled = fill_workbook(template, SAMPLE[FULL])
    before, after = _raw_members(template), _raw_members(filled)
    assert list(before) == list(after)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml",
                       "xl/worksheets/sheet4.xml", "xl/worksheets/sheet5.xml",
                       "xl/sharedStrings.xml"}
    with zipfile.ZipFile(io.BytesIO(template)) as a, zipfile.ZipFile(io.BytesIO(filled)) as b:
        assert b.testzip() is None
        for old, new in zip(a.infolist(), b.infolist(), strict=True):
            assert (old.filename, old.date_time, old.compress_type, old.external_attr,
                    old.create_system) == (new.filename, new.date_time, new.compress_type,
                                           new.external_attr, new.create_system)


def test_numbers_are_numbers_and_texts_shared_strings(templates):
    values = {**SAMPLE[FULL], "students_go": "1 234 567"}
    filled = fill_workbook(templates[FULL], values)
    with zipfile.ZipFile(io.BytesIO(filled)) as archive:
        data_sheet = archive.read("xl/worksheets/sheet3.xml").decode()
        title = archive.read("xl/worksheets/sheet2.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    manifest = read_manifest(filled)
    cell = lambda xml, name: re.search(
        rf'<c r="{manifest["inputs"][name].split("!")[1]}"[^>]*>.*?</c>', xml).group(0)
    assert cell(data_sheet, "orgs_go") == f'<c r="D10" s="13"><v>{values["orgs_go"]}</v></c>'
    assert 't="s"' in cell(data_sheet, "students_go")
    assert 't="s"' in cell(title, "resp_name")
    assert "<t>1 234 567</t>" in strings and f"<t>{values['resp_name']}</t>" in strings
    count = re.search(r'uniqueCount="(\d+)"', strings).group(1)
    assert int(count) == strings.count("<si>")
    package = read_package(filled)
    assert package.sheet("Данные").cells["D6"].value == "1 234 567"
    assert package.sheet("Данные").cells["D10"].value == values["orgs_go"]


def test_cached_values_are_the_core(templates, tmp_path):
    values = SAMPLE[BELOW]
    filled = fill_workbook(templates[BELOW], values)
    manifest = read_manifest(filled)
    package = read_package(filled)
    expected = core.compute_indicators(FORM, values)
    for code, address in manifest["indicators"].items():
        sheet, cell = address.split("!")
        got = package.sheet(sheet).cells[cell]
        assert got.formula and got.value == pytest.approx(expected[code].value, rel=1e-12)
    checks = package.sheet("Проверки").cells
    assert checks["E3"].value == 0 and checks["E4"].value == 1  # one warning, unexplained
    assert checks["E5"].value == "Есть предупреждения без пояснений"
    assert checks[manifest["checks"][target_not_met_rule(FORM)]["result"].split("!")[1]
                  ].value.startswith("E4.01.05")
    # without the cached values the validator notices a workbook that was never recalculated
    stale = validate(tmp_path, fill_workbook(templates[BELOW], values, recalculate=False))
    # (shares cached as "" differ from the figures; counts saved with no value at all are
    # named together in one note)
    assert {f.code for f in stale.findings} == {"indicator-cache-stale",
                                                "indicators-not-calculated", "target-not-met"}


def test_a_text_in_a_count_caches_errors_where_an_office_program_shows_them(templates):
    values = {**SAMPLE[FULL], "students_go": "1 234 567"}
    manifest = read_manifest(templates[FULL])
    cached = cached_values(FORM, manifest, values)
    assert cached[manifest["indicators"]["E4.03"]] is ERROR_VALUE
    assert cached[manifest["indicators"]["E4.05"]] != ERROR_VALUE  # organisations only
    package = read_package(fill_workbook(templates[FULL], values))
    sheet, cell = manifest["indicators"]["E4.03"].split("!")
    assert package.sheet(sheet).cells[cell].value == "#VALUE!"


def test_full_calc_on_load_is_set_without_tripping_the_structure_check(templates, tmp_path):
    template = templates[FULL]
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert 'fullCalcOnLoad="1"' in workbook  # XlsxWriter writes it: filling keeps it
    stripped = replace_members(template, {"xl/workbook.xml": workbook.replace(
        ' fullCalcOnLoad="1"', "").encode()})
    filled = fill_workbook(stripped, SAMPLE[FULL])
    with zipfile.ZipFile(io.BytesIO(filled)) as archive:
        assert re.search(r'<calcPr [^>]*fullCalcOnLoad="1"', archive.read(
            "xl/workbook.xml").decode())
    result = validate(tmp_path, filled)
    assert (result.verdict, keys(result)) == ("PASS", [])


def test_unknown_ids_and_missing_cells_are_refused(templates):
    with pytest.raises(PatchError, match="unknown input"):
        fill_workbook(templates[FULL], {"no_such_input": 1})
    with pytest.raises(PatchError, match="explanation"):
        fill_workbook(templates[FULL], {}, {"no-such-rule": "…"})
    book = XlsxPackage(templates[FULL])
    from cos_xl.xlsxpatch import Constant
    with pytest.raises(PatchError, match="not in the sheet XML"):
        book.set_cells({"Данные!Z999": Constant(1)})
    with pytest.raises(PatchError):
        XlsxPackage(b"not a zip")
    with pytest.raises(PatchError, match="no such member"):
        replace_members(templates[FULL], {"xl/nothing.xml": b""})


def test_texts_are_escaped_as_excel_does(templates):
    text = "A & B <c> _x0041_ \x01 «ё»"
    filled = fill_workbook(templates[FULL], {**SAMPLE[FULL], "resp_position": text})
    assert read_package(filled).sheet("Титул").cells[
        read_manifest(filled)["inputs"]["resp_position"].split("!")[1]].value == text
    assert json.loads(XlsxPackage(filled).manifest_text())["region_code"] == FULL


def test_empty_values_leave_the_template_as_it_was(templates, tmp_path):
    assert fill_workbook(templates[FULL], {}, recalculate=False) == templates[FULL]
    result = validate(tmp_path, fill_workbook(templates[FULL], {}))
    assert result.verdict == "FAIL" and {f.code for f in result.findings} == {"value-missing"}
