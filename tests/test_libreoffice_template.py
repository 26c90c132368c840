"""A generated workbook in a real office program: LibreOffice headless opens it, inputs are set
through UNO, calculateAll() runs, and every IND_* equals the Python core; the saved file keeps
protection, names and the manifest."""

from __future__ import annotations

import math

import openpyxl
import pytest

from cos_xl import core
from cos_xl.spec import load_form
from cos_xl.template.layout import IND_COLS, SHEET_INDICATORS, SHEET_MANIFEST
from cos_xl.template.sheet_indicators import (
    ENGINE_NATIVE, ENGINE_ROW, note_text, status_text,
)
from helpers import write

pytestmark = pytest.mark.libreoffice
FORM = load_form()

FILLED = {
    "students_go": 1_250_000, "e403_go": 1_100_000, "e404_go": 900_000, "e407_go": 300_000,
    "orgs_go": 1_500, "e405_go": 1_400, "e40105_go": 1_350, "teachers_go": 95_000,
    "e408_go": 40_000, "e40111_students": 120_000, "e40111_orgs_go": 400,
    "students_do": 800_000, "e403_do": 500_000, "e404_do": 450_000, "orgs_do": 300,
    "e405_do": 250, "e40105_do": 290,
    "students_spo": 150_000, "e403_spo": 120_000, "e404_spo": 100_000, "e407_spo": 50_000,
    "orgs_spo": 90, "e405_spo": 80, "e40107": 2_500,
    "resp_name": "Иванова Мария Петровна", "resp_position": "Главный специалист",
    "resp_phone": "+7 (495) 123-45-67", "resp_email": "ivanova@edu.example.ru",
}
CASES = {
    "filled": FILLED,
    "zero denominators": {**FILLED, "students_spo": 0, "e403_spo": 0, "e404_spo": 0,
                          "e407_spo": 0, "teachers_go": 0, "e408_go": 0},
    "errors": {**FILLED, "e403_go": 2_000_000, "orgs_do": 0, "resp_email": "нет"},
    "empty": {},
}


VARIANTS = {  # file, macros enabled in LibreOffice
    "xlsm, macros run": (True, True),
    "xlsm, macros blocked": (True, False),
    "xlsx": (False, False),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_indicators_recalculated_by_libreoffice_equal_the_core(office, tmp_path, case, variant):
    values = CASES[case]
    macros, run_macros = VARIANTS[variant]
    suffix = ".xlsm" if macros else ".xlsx"
    path, manifest = write(tmp_path, f"cos_2020Q3_77{suffix}", macros=macros)
    names = [ind.spec.name for ind in FORM.indicators] + ["CHECK_ERRORS"]
    sheet = f"'{SHEET_INDICATORS}'"
    engine = f"{sheet}!A{ENGINE_ROW + 1}"
    row_of = {ind.spec.code: int(manifest["indicators"][ind.spec.code].split("!")[1][1:])
              for ind in FORM.indicators}
    texts = {(code, column): f"{sheet}!{'ABCDEFGHIJKL'[IND_COLS[column]]}{row}"
             for code, row in row_of.items() for column in ("status", "agree", "note")}
    saved = tmp_path / f"saved{suffix}"
    got = office.process(path, set_values={FORM.excel_name(k): v for k, v in values.items()},
                         read=names + [engine, *texts.values()], save_as=saved,
                         macros=run_macros)
    expected = core.compute_indicators(FORM, values)
    for ind in FORM.indicators:
        want = expected[ind.spec.code].value
        value = got[ind.spec.name]
        if want is None:
            assert value in ("", None), (ind.spec.code, value)
        else:
            assert isinstance(value, float), (ind.spec.code, value)
            assert math.isclose(value, want, rel_tol=1e-12), (ind.spec.code, value, want)
    errors = len(core.check_inputs(FORM, values)) + sum(
        1 for r in core.evaluate_rules(FORM, core.namespace(FORM, values))
        if r.rule.severity == "error" and r.status in ("fail", "not-evaluated"))
    assert got["CHECK_ERRORS"] == errors

    # No add-in in LibreOffice: said once above the table, not as an error on every row; a
    # zero denominator is a dash and a note.
    assert got[engine] == ENGINE_NATIVE
    ns = core.namespace(FORM, values)
    for ind in FORM.indicators:
        spec = ind.spec
        assert got[texts[spec.code, "agree"]] in ("", None), spec.code
        assert got[texts[spec.code, "status"]] == status_text(
            ns[spec.name], manifest["targets"].get(spec.code)), spec.code
        note = note_text(ns.get(spec.den_name), spec.national_note)
        assert (got[texts[spec.code, "note"]] or "") == note, spec.code

    # What LibreOffice saved still has its protection, names and the manifest.
    # LibreOffice 7.4 writes back an empty <workbookProtection/>: the structure lock and its
    # password do not survive its save (measured here); sheet protection does. The validator
    # must therefore treat a bare <workbookProtection/> as "saved by LibreOffice".
    wb = openpyxl.load_workbook(saved)
    assert wb.security is not None
    assert all(ws.protection.sheet for ws in wb.worksheets)
    assert {ind.spec.name for ind in FORM.indicators} <= set(wb.defined_names)
    assert wb[SHEET_MANIFEST]["B1"].value.startswith("{")
    # The UDF calls survive the save (LibreOffice may change the case of the function name).
    (sheet, cell), = wb.defined_names["IND_E4_03"].destinations
    assert "cos_e403(" in wb[sheet][cell.replace("$", "")].value.lower()
