"""The validator end to end: a return filled and saved by LibreOffice passes; each kind of
tampering, identity problem and bad value fails with its code at the right place."""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cos_xl.cli import app
from cos_xl.office import Formula, LibreOffice, libreoffice_available
from cos_xl.signing import resolve_key, sign
from cos_xl.spec import load_form
from cos_xl.validate.run import validate_file
from conftest import require_tool
from helpers import DEV_KEY, write
from test_validate_values import CLEAN

FORM = load_form()
runner = CliRunner()


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    """A template filled and saved by LibreOffice headless, as a region would return it."""
    require_tool(libreoffice_available(), "LibreOffice headless (libreoffice-calc-nogui, python3-uno)")
    folder = tmp_path_factory.mktemp("returned")
    path, manifest = write(folder, "template.xlsm")
    target = folder / "cos_2020Q3_77.xlsm"
    values = {FORM.excel_name(k): v for k, v in CLEAN.items()}
    with LibreOffice() as lo:
        lo.process(path, set_values=values, save_as=target)
    return target, manifest


def validate(path: Path, **kwargs):
    return validate_file(path, DEV_KEY, allow_dev_key=True, **kwargs)


def test_libreoffice_return_passes(returned):
    path, _ = returned
    result = validate(path)
    assert result.verdict == "PASS_WITH_WARNINGS", [(f.code, f.message) for f in result.findings]
    assert {f.code for f in result.findings} == {"target-not-met"}
    assert (result.region_code, result.period, result.form_version) == ("77", "2020Q3", "2020.1")


def test_untouched_template_fails_only_for_missing_values(tmp_path):
    path, _ = write(tmp_path)
    result = validate(path)
    assert result.verdict == "FAIL"
    assert {f.code for f in result.findings} == {"value-missing"}


def _edit(path: Path, tmp_path: Path, change) -> Path:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    change(wb)
    target = tmp_path / "tampered.xlsm"
    wb.save(target)
    return target


def _cell(manifest, name):
    sheet, cell = manifest["names"][name].rsplit("!", 1)
    return sheet, cell


TAMPER = {
    "formula pasted over": (lambda wb, m: wb[_cell(m, "IND_E4_03")[0]].__setitem__(
        _cell(m, "IND_E4_03")[1], 55.5), "formula-replaced"),
    "label edited": (lambda wb, m: wb["Данные"].__setitem__("B6", "Что-то другое"),
                     "label-changed"),
    "row inserted": (lambda wb, m: wb["Данные"].insert_rows(8), "label-changed"),
    "sheet renamed": (lambda wb, m: setattr(wb["Инструкция"], "title", "Instr"),
                      "sheets-changed"),
    "sheet removed": (lambda wb, m: wb.remove(wb["Инструкция"]), "sheets-changed"),
    "sheet added": (lambda wb, m: wb.create_sheet("Лишний"), "sheets-changed"),
    "protection removed": (lambda wb, m: setattr(wb["Данные"].protection, "sheet", False),
                           "sheet-unprotected"),
    "formula typed into an input": (lambda wb, m: wb["Данные"].__setitem__(
        _cell(m, "students_go")[1], "=1000+250000"), "formula-in-input"),
    "name moved": (lambda wb, m: setattr(wb.defined_names["students_go"], "attr_text",
                                         "'Данные'!$D$99"), "name-changed"),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampering_is_caught(returned, tmp_path, case):
    path, manifest = returned
    change, code = TAMPER[case]
    tampered = _edit(path, tmp_path, lambda wb: change(wb, manifest))
    started = time.perf_counter()
    result = validate(tampered)
    assert time.perf_counter() - started < 2
    assert result.verdict == "FAIL"
    assert code in {f.code for f in result.findings}, [(f.code, f.message) for f in result.findings]


def _rezip(path: Path, target: Path, replace: dict[str, bytes | None]) -> Path:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = replace.get(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info.filename, data)
        for name, data in replace.items():
            if name not in src.namelist() and data is not None:
                dst.writestr(name, data)
    return target


def test_replaced_vba_project_is_caught(returned, tmp_path):
    from cos_xl.vba import build_vba_project
    path, _ = returned
    other = build_vba_project({"xlwings_udfs": 'Attribute VB_Name = "xlwings_udfs"\n'
                                               "Function COS_E403()\n COS_E403 = 1\nEnd Function\n"},
                              sheet_count=7)
    tampered = _rezip(path, tmp_path / "vba.xlsm", {"xl/vbaProject.bin": other})
    result = validate(tampered)
    assert result.verdict == "FAIL" and "vba-changed" in {f.code for f in result.findings}


def _manifest_text(path: Path) -> str:
    return openpyxl.load_workbook(path)["_manifest"]["B1"].value


def test_edited_manifest_breaks_the_signature(returned, tmp_path):
    path, _ = returned
    text = _manifest_text(path)
    tampered = _edit(path, tmp_path, lambda wb: wb["_manifest"].__setitem__(
        "B1", text.replace('"region_code":"77"', '"region_code":"50"')))
    result = validate(tampered)
    assert [f.code for f in result.findings] == ["manifest-signature-invalid"]


def test_missing_manifest(returned, tmp_path):
    path, _ = returned
    tampered = _edit(path, tmp_path, lambda wb: wb.remove(wb["_manifest"]))
    assert [f.code for f in validate(tampered).findings] == ["manifest-missing"]


def test_other_key_and_dev_key(returned):
    path, _ = returned
    other = resolve_key(None, False, env={"COS_XL_SIGNING_KEY": "x" * 32})
    assert [f.code for f in validate_file(path, other).findings] == ["manifest-signature-invalid"]
    codes = {f.code for f in validate_file(path, DEV_KEY).findings}
    assert "manifest-dev-key" in codes


def test_unknown_form_version(returned, tmp_path):
    path, _ = returned
    manifest = json.loads(_manifest_text(path))
    manifest["form_version"] = "1999.9"
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    tampered = _edit(path, tmp_path, lambda wb: (
        wb["_manifest"].__setitem__("B1", text),
        wb["_manifest"].__setitem__("B2", sign(text, DEV_KEY))))
    assert [f.code for f in validate(tampered).findings] == ["template-unknown"]


def test_vba_added_to_a_workbook_without_macros(tmp_path):
    from cos_xl.template.builder import vba_project
    path, _ = write(tmp_path, "plain.xlsx", macros=False)
    with zipfile.ZipFile(path) as archive:
        types = archive.read("[Content_Types].xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    types = types.replace("</Types>", '<Default Extension="bin" ContentType="application/'
                          'vnd.ms-office.vbaProject"/></Types>')
    rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.'
                        'microsoft.com/office/2006/relationships/vbaProject" '
                        'Target="vbaProject.bin"/></Relationships>')
    tampered = _rezip(path, tmp_path / "with-vba.xlsx", {
        "xl/vbaProject.bin": vba_project(), "[Content_Types].xml": types.encode(),
        "xl/_rels/workbook.xml.rels": rels.encode()})
    codes = {f.code for f in validate(tampered).findings}
    assert "vba-added" in codes


def test_cli_json_schema_and_exit_codes(returned, tmp_path):
    path, _ = returned
    bad = tmp_path / "bad.xlsm"
    bad.write_bytes(b"")
    result = runner.invoke(app, ["validate", str(path), str(bad), "--format", "json",
                                 "--dev-key"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    files = {Path(f["path"]).name: f for f in document["files"]}
    assert files[path.name]["verdict"] == "PASS_WITH_WARNINGS"
    assert files["bad.xlsm"]["verdict"] == "FAIL"
    for f in document["files"]:
        assert set(f) == {"path", "region_code", "period", "form_version", "verdict", "findings"}
        for finding in f["findings"]:
            assert set(finding) == {"code", "severity", "sheet", "cell", "message", "value"}
            assert finding["severity"] in ("error", "warning", "info")
    ok = runner.invoke(app, ["validate", str(path), "--dev-key"])
    assert ok.exit_code == 0 and "Принят" in ok.stdout and "Не принят" not in ok.stdout
    assert runner.invoke(app, ["validate", str(tmp_path / "nope.xlsm"), "--dev-key"]).exit_code == 2
    assert runner.invoke(app, ["validate", str(path), "--format", "pdf"]).exit_code == 2


def test_xlsx_report_and_annotated_copies(returned, tmp_path):
    path, manifest = returned
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(path, folder / path.name)
    broken = _edit(path, tmp_path, lambda wb: wb["Данные"].__setitem__(
        _cell(manifest, "students_go")[1], "1 234"))
    shutil.copy(broken, folder / "cos_2020Q3_50 (испр).xlsm")
    before = (folder / path.name).read_bytes()
    result = runner.invoke(app, ["validate", str(folder), "--format", "xlsx", "--out",
                                 str(tmp_path / "out"), "--annotate", str(tmp_path / "ann"),
                                 "--dev-key"])
    assert result.exit_code == 1, result.output
    assert (folder / path.name).read_bytes() == before  # originals untouched
    report = openpyxl.load_workbook(tmp_path / "out" / "validation-report.xlsx")
    rows = list(report["Замечания"].iter_rows(min_row=2, values_only=True))
    assert any(r[4] == "value-as-text" and r[7] == _cell(manifest, "students_go")[1] for r in rows)
    annotated = sorted((tmp_path / "ann").iterdir())
    assert len(annotated) == 2 and all(p.parent == tmp_path / "ann" for p in annotated)
    copy = openpyxl.load_workbook([p for p in annotated if "50" in p.name][0])
    assert copy.sheetnames[0] == "Замечания"
    sheet, cell = _cell(manifest, "students_go")
    assert "текст" in copy[sheet][cell].comment.text


MORE_TAMPER = {
    "formula edited": (lambda wb, m: wb["Показатели"].__setitem__(
        "H6", '=IF(E6="","Достигнуто","Достигнуто")'), "formula-changed"),
    "validations removed": (lambda wb, m: setattr(wb["Данные"].data_validations,
                                                  "dataValidation", []), "validation-removed"),
    # an input cell formatted to show another number than the one stored
    "input shows a literal": (lambda wb, m: setattr(
        wb["Данные"][_cell(m, "students_go")[1]], "number_format", '"1200000"'),
        "input-number-format"),
    "input hides its number": (lambda wb, m: setattr(
        wb["Данные"][_cell(m, "students_go")[1]], "number_format", '0;;;"999"'),
        "input-number-format"),
}


@pytest.mark.parametrize("case", sorted(MORE_TAMPER))
def test_more_tampering_is_caught(returned, tmp_path, case):
    path, manifest = returned
    change, code = MORE_TAMPER[case]
    result = validate(_edit(path, tmp_path, lambda wb: change(wb, manifest)))
    assert code in {f.code for f in result.findings}, [(f.code, f.message) for f in result.findings]


def test_structure_protection_removed_is_a_warning(returned, tmp_path):
    import re
    path, _ = returned
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/workbook.xml").decode()
    xml = re.sub(r"<workbookProtection[^>]*/>", "", xml)
    result = validate(_rezip(path, tmp_path / "unlocked.xlsm", {"xl/workbook.xml": xml.encode()}))
    found = {f.code: f.severity for f in result.findings}
    assert found.get("workbook-unprotected") == "warning"
    assert result.verdict == "PASS_WITH_WARNINGS"


def test_unreadable_sheet_is_a_finding_not_a_traceback(returned, tmp_path):
    path, _ = returned
    broken = _rezip(path, tmp_path / "broken.xlsm",
                    {"xl/worksheets/sheet3.xml": b"<worksheet><sheetData><row><c r='A1'"})
    result = validate(broken)
    assert result.verdict == "FAIL"
    assert {f.code for f in result.findings} & {"workbook-unreadable", "zip-corrupt"}


def test_previous_figures_given_on_the_command_line(returned, tmp_path):
    path, _ = returned
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps({"77": {"period": "2020Q2", "values": {"E4.03": 20.0,
                                                                          "E4.01.07": 9000}}}))
    result = runner.invoke(app, ["validate", str(path), "--format", "json", "--dev-key",
                                 "--previous", str(previous)])
    codes = {f["code"] for f in json.loads(result.stdout)["files"][0]["findings"]}
    assert {"share-jump", "count-decreased"} <= codes
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert runner.invoke(app, ["validate", str(path), "--dev-key", "--previous",
                               str(bad)]).exit_code == 2


def test_whole_hostile_corpus_fails_through_the_validator(tmp_path):
    """The safety corpus (43 files) plus this module's tampering cases: every file gives FAIL
    with its code within 2 s, through the whole validator, without a traceback."""
    import os
    from test_safety import CORPUS, real_templates
    templates = real_templates()
    for case, (builder, code, limits) in CORPUS.items():
        name, data = builder(templates)
        path = tmp_path / case / name
        path.parent.mkdir()
        if data is None:
            path.write_bytes(templates["xlsm"])
            os.truncate(path, 2 * 1024 * 1024 * 1024)
        else:
            path.write_bytes(data)
        started = time.perf_counter()
        result = validate_file(path, DEV_KEY, limits=limits, allow_dev_key=True)
        assert time.perf_counter() - started < 2, case
        assert result.verdict == "FAIL", case
        assert code in {f.code for f in result.findings}, case
    assert len(CORPUS) + len(TAMPER) + len(MORE_TAMPER) >= 40


def test_many_files_in_worker_processes_give_the_same_results(tmp_path):
    from cos_xl.validate.run import default_workers, validate_files

    paths = []
    for code in ("77", "50", "01", "16", "66"):
        path, _ = write(tmp_path, f"cos_2020Q3_{code}.xlsm", region=code)
        paths.append(path)
    paths.append(tmp_path / "missing.xlsm")
    alone = list(validate_files(paths, DEV_KEY, workers=1, allow_dev_key=True))
    forked = list(validate_files(paths, DEV_KEY, workers=2, allow_dev_key=True))
    assert [r.path for r in forked] == paths
    assert [(r.verdict, r.region_code, r.findings) for r in forked] == \
        [(r.verdict, r.region_code, r.findings) for r in alone]
    assert [r.region_code for r in alone[:5]] == ["77", "50", "01", "16", "66"]
    assert alone[-1].findings[0].code == "file-unreadable"
    assert default_workers(85) == 1 and default_workers(40_000) >= 1


def test_bulk_pass_over_issued_cells_misses_no_finding(tmp_path, monkeypatch):
    """integrity_findings passes over labels, formulas, inputs, numbers and blanks as issued in
    bulk; on randomly altered cells its findings are exactly those of judging every record."""
    import dataclasses
    import random

    from cos_xl.validate import integrity
    from cos_xl.validate.expected import expected_structure
    from cos_xl.validate.ooxml import CellXml, read_package

    path, manifest = write(tmp_path)
    package = read_package(path)
    expected = expected_structure(manifest)
    every = list(range(len(expected.records)))
    rng = random.Random(7)
    replacements = [None, CellXml("текст", None, True, "s"), CellXml(1.0, None, True, "n"),
                    CellXml(None, "1+1", True, "n", "normal"), CellXml("", None, True, "s"),
                    CellXml(0.0, None, False, "n"), CellXml(True, None, True, "b")]
    total = 0
    for _ in range(60):
        sheets = []
        for sheet in package.sheets:
            cells = dict(sheet.cells)
            for record in rng.sample(expected.records, 4):
                if record[0] == sheet.name:
                    change = rng.choice(replacements + ["formula", "same value"])
                    cell = cells.get(record[1])
                    if change is None:
                        cells.pop(record[1], None)
                    elif change == "same value":  # what it showed, now by a formula
                        value = cell.value if cell else None
                        cells[record[1]] = CellXml(value, f'"{value}"', True,
                                                   cell.kind if cell else "n", "normal")
                    elif change == "formula":
                        cells[record[1]] = CellXml(None, (cell.formula if cell and cell.formula
                                                          else "A1") + "+0", True, "n", "normal")
                    else:
                        cells[record[1]] = change
            sheets.append(dataclasses.replace(sheet, cells=cells))
        altered = dataclasses.replace(package, sheets=sheets)
        bulk = integrity.integrity_findings(altered, expected, manifest)
        with monkeypatch.context() as m:
            m.setattr(integrity, "_suspects", lambda *_: every)
            one_by_one = integrity.integrity_findings(altered, expected, manifest)
        assert bulk == one_by_one
        total += len(bulk)
    assert total > 60


def test_a_cell_written_twice_is_named_in_russian(returned, tmp_path):
    from package_variants import DATA, INPUT, duplicate_input_after

    path, _ = returned
    twice = tmp_path / "twice.xlsm"
    twice.write_bytes(duplicate_input_after(path.read_bytes()))
    result = validate(twice)
    assert result.verdict == "FAIL"
    (found,) = [f for f in result.findings if f.code == "cell-duplicated"]
    assert (found.sheet, found.cell) == (DATA, INPUT)
    assert found.message.startswith(f"Данные!{INPUT}: ячейка записана в файле дважды")
