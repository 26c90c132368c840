"""Meaning-level tests of a generated workbook, read back with openpyxl."""

from __future__ import annotations

import json

import openpyxl
import pytest

from cos_xl.signing import verify
from cos_xl.spec import excel_defined_name, load_form
from cos_xl.template.layout import (
    MANIFEST_PAYLOAD_CELL, MANIFEST_SIGNATURE_CELL, SHEET_MANIFEST, SHEET_XLWINGS, SHEETS,
)
from helpers import DEV_KEY, write

CONTRACT_NAMES = {
    "IND_E4_03", "IND_E4_04", "IND_E4_05", "IND_E4_07", "IND_E4_08", "IND_E4_01_05",
    "IND_E4_01_07", "IND_E4_01_11", "region_code", "period", "resp_name", "resp_position",
    "resp_phone", "resp_email",
}


@pytest.fixture(scope="module", params=[True, False], ids=["xlsm", "xlsx"])
def generated(tmp_path_factory, request):
    """Both variants pass every test here: .xlsm (VBA wrappers) and .xlsx (--no-macros)."""
    suffix = ".xlsm" if request.param else ".xlsx"
    path, manifest = write(tmp_path_factory.mktemp("tpl"), f"cos_2020Q3_77{suffix}",
                           macros=request.param)
    return path, manifest, openpyxl.load_workbook(path)


def split(address: str) -> tuple[str, str]:
    sheet, cell = address.rsplit("!", 1)
    return sheet.strip("'"), cell.replace("$", "")


def test_sheets_in_order_and_manifest_very_hidden(generated):
    _, _, wb = generated
    assert wb.sheetnames == list(SHEETS)
    assert wb[SHEET_MANIFEST].sheet_state == "veryHidden"
    assert wb[SHEET_XLWINGS].sheet_state == "hidden"
    assert wb[SHEET_XLWINGS]["A1"].value == "UDF Modules"
    assert wb[SHEET_XLWINGS]["B1"].value == "cos_xl.udfs"
    hidden = {SHEET_MANIFEST, SHEET_XLWINGS}
    assert all(wb[name].sheet_state == "visible" for name in SHEETS if name not in hidden)


def test_every_sheet_and_the_structure_are_protected(generated):
    _, _, wb = generated
    assert wb.security is not None and wb.security.lockStructure
    assert wb.security.workbookPassword  # legacy hash of the campaign password
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        assert ws.protection.insertRows and ws.protection.deleteRows  # True = not allowed
        assert ws.protection.password


def test_only_input_cells_are_unlocked(generated):
    _, manifest, wb = generated
    expected = {split(a) for a in manifest["inputs"].values()}
    expected |= {split(c["explanation"]) for c in manifest["checks"].values()
                 if "explanation" in c}
    unlocked = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.has_style and not cell.protection.locked:
                    unlocked.add((ws.title, cell.coordinate))
    assert unlocked == expected


def test_contract_names_point_at_the_right_cells(generated):
    _, manifest, wb = generated
    form = load_form()
    names = wb.defined_names
    for name in CONTRACT_NAMES | {item.id for item in form.count_inputs}:
        assert excel_defined_name(name) in names, name
    for input_id, address in manifest["inputs"].items():
        (sheet, cell), = names[excel_defined_name(input_id)].destinations
        assert (sheet, cell.replace("$", "")) == split(address), input_id
    for code, address in manifest["indicators"].items():
        ind = form.indicator_by_code[code].spec
        (sheet, cell), = names[ind.name].destinations
        assert (sheet, cell.replace("$", "")) == split(address)
        assert wb[sheet][cell.replace("$", "")].data_type == "f"
    assert "_e40107" in names and "e40107" not in names  # E40107 is a cell reference


def test_prefilled_region_and_period(generated):
    _, manifest, wb = generated
    def value(name):
        (sheet, cell), = wb.defined_names[name].destinations
        return wb[sheet][cell.replace("$", "")].value
    assert value("region_code") == "77"
    assert value("period") == "2020Q3"
    assert manifest["region_code"] == "77" and manifest["period"] == "2020Q3"


def test_manifest_is_signed_and_flags_dev_key(generated):
    _, manifest, wb = generated
    ws = wb[SHEET_MANIFEST]
    text = ws[MANIFEST_PAYLOAD_CELL].value
    assert json.loads(text) == manifest
    assert verify(text, ws[MANIFEST_SIGNATURE_CELL].value, DEV_KEY)
    assert manifest["dev_key"] is True
    assert len(manifest["structure_digest"]) == 64


def test_count_inputs_have_whole_number_validation(generated):
    _, manifest, wb = generated
    form = load_form()
    validated = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                validated[(ws.title, rng.coord)] = dv
    for item in form.count_inputs:
        dv = validated[split(manifest["inputs"][item.id])]
        assert dv.type == "whole"
        if item.part_of:
            assert dv.operator in (None, "between")  # "between" is the default, often omitted
            assert excel_defined_name(item.part_of) in dv.formula2
        else:
            assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"


def test_structure_digest_changes_with_the_structure():
    from helpers import build
    from cos_xl.campaign import Campaign
    base = build()[1]["structure_digest"]
    other = build(campaign=Campaign.model_validate(
        {"periods": {"2020Q3": {"targets": {"E4.03": 50}}}}))[1]["structure_digest"]
    assert base != other


def test_instructions_say_how_to_save_type_numbers_and_resubmit(generated):
    _, _, wb = generated
    ws = wb["Инструкция"]
    steps = {row: ws.cell(row, 2).value for row in range(1, ws.max_row + 1)
             if str(ws.cell(row, 1).value or "").rstrip(".").isdigit()}
    text = "\n".join(steps.values())
    for phrase in ("«Книга Excel с поддержкой макросов (.xlsm)»", "«Книга Excel (.xlsx)»",
                   "форматы .ods, .xls, CSV не принимаются", "можно отказаться — это безопасно",
                   "1200000, а не «1 200 000» или «1200000,0»", "«…_zamechaniya»",
                   "принимаются оба", "учитывается последняя принятая"):
        assert phrase in text, phrase
    for row, step in steps.items():  # a protected sheet does not grow its rows on opening
        if len(step) > 150:
            assert (ws.row_dimensions[row].height or 0) >= 26, (row, step)
