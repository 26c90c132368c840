"""What regions really do with the file, through LibreOffice headless: fix the annotated copy,
save as .xlsx, save as .ods/.xls/CSV, save twice, fill with openpyxl, type a number with spaces
or a decimal comma. Honest actions are accepted or get one clear finding; tampering inside an
annotated copy still fails."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cos_xl.office import Formula
from cos_xl.signing import resolve_key
from cos_xl.spec import load_form
from cos_xl.validate.annotate import annotate
from cos_xl.validate.annotation import ANNOTATION_SHEET, SEAL_CELL
from cos_xl.validate.reader import split_address
from cos_xl.validate.run import validate_file
from helpers import DEV_KEY, write
from test_validate_values import CLEAN

pytestmark = pytest.mark.libreoffice
FORM = load_form()
PERFECT = {**CLEAN, "e40105_go": 1_500, "e40105_do": 300}  # no warning at all


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    folder = tmp_path_factory.mktemp("issued")
    return write(folder, "cos_2020Q3_77.xlsm")


def validate(path: Path, **kwargs):
    return validate_file(path, DEV_KEY, allow_dev_key=True, **kwargs)


def named(values: dict) -> dict:
    return {FORM.excel_name(k): v for k, v in values.items()}


def fill(office, issued, target: Path, values: dict, **kwargs) -> Path:
    office.process(issued[0], set_values=named(values), save_as=target, **kwargs)
    return target


def codes(result) -> list[str]:
    return sorted(f.code for f in result.findings)


def address(manifest: dict, name: str) -> tuple[str, str]:
    sheet, cell = manifest["names"][name].rsplit("!", 1)
    return sheet.strip("'"), cell.replace("$", "")


# -- 1. the annotated copy, fixed and sent back ---------------------------------------------

@pytest.fixture(scope="module")
def annotated(office, issued, tmp_path_factory):
    """A return with a number typed with spaces, its annotated copy, and that copy opened and
    saved (unchanged) in LibreOffice."""
    folder = tmp_path_factory.mktemp("annotated")
    wrong = fill(office, issued, folder / "cos_2020Q3_77.xlsm",
                 {**PERFECT, "students_go": "1 600 000"})
    result = validate(wrong)
    copy = annotate(result, folder / "back", DEV_KEY)
    saved = folder / "saved_in_lo.xlsm"
    office.process(copy, save_as=saved)
    return result, copy, saved


def test_the_annotated_copy_tells_the_region_what_to_do(annotated, issued):
    result, copy, saved = annotated
    assert result.verdict == "FAIL" and codes(result) == ["value-as-text"]
    assert copy.name == "cos_2020Q3_77_zamechaniya.xlsm"
    for path in (copy, saved):  # as written, and as LibreOffice saves it back
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames[0] == ANNOTATION_SHEET
        ws = wb[ANNOTATION_SHEET]
        assert ws["A2"].value == "Субъект: г. Москва (код 77)"
        assert ws["A3"].value == "Период: III квартал 2020 г. (2020Q3)"
        assert ws["A4"].value == "Итог проверки: Не принят — 1 ошибка"
        assert "в этой книге или в своём исходном файле" in ws["A6"].value
        assert [ws.cell(8, c).value for c in range(1, 6)] == [
            "Замечание", "Ячейка", "Вид", "Значение", "Код"]
        sheet, cell = address(issued[1], "students_go")
        assert "«1 600 000»" in ws["A9"].value and "1200000" in ws["A9"].value
        assert ws["B9"].value == f"{sheet}!{cell}"
        assert ws["B9"].hyperlink.location.replace("'", "") == f"{sheet}!{cell}"
        assert ws["E9"].value == "value-as-text"
        assert ws.protection.sheet
        assert ws.page_setup.orientation == "landscape"
        assert ws.column_dimensions["J"].hidden
        # the cell itself is highlighted and carries the message
        marked = wb[sheet][cell]
        assert marked.fill.fgColor.rgb.endswith("FFC7CE")
        assert "1 600 000" in marked.comment.text


@pytest.mark.parametrize("where", ["copy as written", "copy saved by LibreOffice"])
def test_the_annotated_copy_fixed_in_libreoffice_is_accepted(office, annotated, tmp_path,
                                                              where):
    _, copy, saved = annotated
    source = copy if where == "copy as written" else saved
    fixed = tmp_path / "fixed.xlsm"
    office.process(source, set_values=named({"students_go": 1_600_000}), save_as=fixed)
    result = validate(fixed)
    assert result.verdict == "PASS", [(f.code, f.message) for f in result.findings]
    assert codes(result) == ["annotation-sheet-kept"]
    assert result.values["students_go"] == 1_600_000


def test_a_fixed_copy_annotated_again_keeps_one_sheet_and_the_original_colours(
        office, annotated, issued, tmp_path):
    _, copy, _ = annotated
    sheet, cell = address(issued[1], "students_go")
    original = openpyxl.load_workbook(issued[0])[sheet][cell].fill.fgColor.rgb
    half_fixed = tmp_path / "cos_2020Q3_77_zamechaniya.xlsm"
    office.process(copy, set_values=named({"students_go": 1_600_000, "resp_email": "нет"}),
                   save_as=half_fixed)
    result = validate(half_fixed)
    assert codes(result) == ["annotation-sheet-kept", "email-invalid"]
    again = annotate(result, tmp_path / "back", DEV_KEY)
    assert again.name == "cos_2020Q3_77_zamechaniya.xlsm"
    wb = openpyxl.load_workbook(again)
    assert wb.sheetnames.count(ANNOTATION_SHEET) == 1 and wb.sheetnames[0] == ANNOTATION_SHEET
    assert wb[sheet][cell].fill.fgColor.rgb[-6:] == original[-6:]  # no longer marked
    assert wb[sheet][cell].comment is None
    assert [f.code for f in validate(again).findings if f.severity == "error"] == [
        "email-invalid"]


# -- no weakening: anything else added or changed in an annotated copy still fails ----------

def test_another_sheet_added_to_the_annotated_copy_fails(annotated, tmp_path):
    _, _, saved = annotated
    wb = openpyxl.load_workbook(saved, keep_vba=True)
    wb.create_sheet("Лист1")
    target = tmp_path / "extra.xlsm"
    wb.save(target)
    result = validate(target)
    assert result.verdict == "FAIL" and "sheets-changed" in codes(result)


def test_a_locked_cell_changed_in_the_annotated_copy_fails(office, annotated, issued, tmp_path):
    _, _, saved = annotated
    sheet, cell = address(issued[1], "IND_E4_03")
    target = tmp_path / "locked.xlsm"
    office.process(saved, set_values={f"'{sheet}'!{cell}": 99.0,
                                      **named({"students_go": 1_600_000})},
                   save_as=target, allow_locked=True)
    result = validate(target)
    assert result.verdict == "FAIL" and "formula-replaced" in codes(result)


@pytest.mark.parametrize("edit", [
    {f"'{ANNOTATION_SHEET}'!A2": "Субъект: другой"},
    {f"'{ANNOTATION_SHEET}'!A40": "примечание региона"},
    {f"'{ANNOTATION_SHEET}'!A40": Formula("=Данные!D6")},
    {f"'{ANNOTATION_SHEET}'!{SEAL_CELL}": "cos-xl-annotation/1:" + "0" * 64},
], ids=["text edited", "text added", "formula added", "seal forged"])
def test_an_edited_annotation_sheet_fails(office, annotated, tmp_path, edit):
    _, _, saved = annotated
    target = tmp_path / "edited.xlsm"
    office.process(saved, set_values={**edit, **named({"students_go": 1_600_000})},
                   save_as=target, allow_locked=True)
    result = validate(target)
    assert result.verdict == "FAIL" and codes(result) == ["annotation-sheet-changed"]


def test_a_sheet_of_the_regions_own_named_like_the_annotation_fails(office, issued, tmp_path):
    plain = fill(office, issued, tmp_path / "plain.xlsm", PERFECT)
    wb = openpyxl.load_workbook(plain, keep_vba=True)
    wb.create_sheet(ANNOTATION_SHEET, 0)["A1"] = "Замечания по итогам проверки"
    target = tmp_path / "own.xlsm"
    wb.save(target)
    assert codes(validate(target)) == ["annotation-sheet-changed", "indicators-not-calculated"]


def test_an_annotation_sealed_with_another_key_fails(annotated, tmp_path):
    result, _, _ = annotated
    other = resolve_key(None, env={"COS_XL_SIGNING_KEY": "x" * 40})
    copy = annotate(result, tmp_path, other)
    assert "annotation-sheet-changed" in codes(validate(copy))


# -- 2. saved as .xlsx: macros dropped ------------------------------------------------------

def test_saved_as_xlsx_without_macros_is_accepted(office, issued, tmp_path):
    saved = fill(office, issued, tmp_path / "cos_2020Q3_77.xlsx", PERFECT)
    result = validate(saved)
    assert result.verdict == "PASS", [(f.code, f.message) for f in result.findings]
    assert [(f.code, f.severity) for f in result.findings] == [("macros-removed", "info")]
    assert "встроенными формулами" in result.findings[0].message


# -- 3. other formats: one finding that says how to save -------------------------------------

@pytest.mark.parametrize(("suffix", "code"), [
    (".ods", "file-ods"), (".xls", "file-legacy-xls"), (".csv", "file-csv")])
def test_other_formats_get_exactly_one_finding(office, issued, tmp_path, suffix, code):
    saved = fill(office, issued, tmp_path / f"cos_2020Q3_77{suffix}", PERFECT)
    result = validate(saved)
    assert [(f.code, f.severity) for f in result.findings] == [(code, "error")]
    assert "«Книга Excel (.xlsx/.xlsm)»" in result.findings[0].message


# -- 4. saved twice; filled by a script ------------------------------------------------------

def test_saved_twice_in_libreoffice_is_accepted(office, issued, tmp_path):
    first = fill(office, issued, tmp_path / "first.xlsm", {**PERFECT, "orgs_go": 1_400})
    second = tmp_path / "second.xlsm"
    office.process(first, set_values=named({"orgs_go": PERFECT["orgs_go"]}), save_as=second)
    third = tmp_path / "third.xlsm"
    office.process(second, save_as=third)  # opened and saved again, nothing changed
    for path in (second, third):
        result = validate(path)
        assert result.verdict == "PASS", [(f.code, f.message) for f in result.findings]
        assert result.findings == []


def test_filled_with_openpyxl_is_accepted_and_libreoffice_shows_the_indicators(
        office, issued, tmp_path):
    wb = openpyxl.load_workbook(issued[0], keep_vba=True)
    for input_id, value in PERFECT.items():
        sheet, row, col = split_address(issued[1]["inputs"][input_id])
        wb[sheet].cell(row + 1, col + 1, value)
    scripted = tmp_path / "scripted.xlsm"
    wb.save(scripted)
    result = validate(scripted)
    assert result.verdict == "PASS"
    assert [(f.code, f.severity) for f in result.findings] == [
        ("indicators-not-calculated", "info")]
    # what openpyxl drops (the formulas' results) an office program computes on opening
    shown = office.process(scripted, read=["IND_E4_03"], recalc=False)
    assert isinstance(shown["IND_E4_03"], float) and shown["IND_E4_03"] > 0
    resaved = tmp_path / "resaved.xlsm"
    office.process(scripted, save_as=resaved)
    assert validate(resaved).findings == []


# -- 5. a number typed with spaces or a decimal comma ---------------------------------------

@pytest.mark.parametrize("typed", ["1 200 000", "1\u00a0200\u00a0000", "1200000,0", "1.200.000"])
def test_a_number_typed_as_text_is_an_error_at_its_cell_saying_what_to_type(
        office, issued, tmp_path, typed):
    check = issued[1]["checks"]["input:students_go"]["result"]
    saved = tmp_path / "typed.xlsm"
    shown = office.process(issued[0], set_values=named({**PERFECT, "students_go": typed}),
                           read=[check], save_as=saved)
    result = validate(saved)
    assert result.verdict == "FAIL"
    (finding,) = result.findings
    assert (finding.code, finding.severity) == ("value-as-text", "error")
    assert (finding.sheet, finding.cell) == address(issued[1], "students_go")
    assert f"«{typed}»" in finding.message and "только цифры" in finding.message
    assert "1200000" in finding.message
    assert finding.value == typed  # never read as another number
    # the workbook's own check sheet says the same words
    assert shown[check] == finding.message
