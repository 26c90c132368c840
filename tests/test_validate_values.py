"""Values of returned workbooks filled and saved by a real office program (LibreOffice through
UNO): a clean return gives no error; each kind of bad value gives its finding at the right cell.
"""

from __future__ import annotations

import openpyxl
import pytest

from cos_xl.spec import load_form
from cos_xl.validate.reader import read_returned, split_address
from cos_xl.validate.values import value_findings
from helpers import write
from test_libreoffice_template import FILLED

FORM = load_form()
CLEAN = {**FILLED, **{ind.spec.is_name: "Электронный журнал / электронный дневник"
                      for ind in FORM.indicators}}
BAD = {  # case: (changes, expected code, the input whose cell the finding names)
    "number as text": ({"students_go": "1 234"}, "value-as-text", "students_go"),
    "decimal comma": ({"e40107": "12,5"}, "value-as-text", "e40107"),
    "negative": ({"orgs_do": -3}, "value-negative", "orgs_do"),
    "fraction": ({"teachers_go": 95000.5}, "value-fraction", "teachers_go"),
    "part above total": ({"e403_go": 1_300_000}, "part-exceeds-total", "e403_go"),
    "total zero with parts": ({"orgs_spo": 0}, "part-exceeds-total", "e405_spo"),
    "missing responsible": ({"resp_name": None}, "value-missing", "resp_name"),
    "empty count": ({"students_do": None}, "value-missing", "students_do"),
    "bad e-mail": ({"resp_email": "ivanova.edu.ru"}, "email-invalid", "resp_email"),
    "short phone": ({"resp_phone": "12-34"}, "phone-invalid", "resp_phone"),
}


def fill(office, tmp_path, values, explanations=None):
    path, manifest = write(tmp_path)
    saved = tmp_path / "returned.xlsm"
    set_values = {FORM.excel_name(k): v for k, v in values.items()}
    for rule_id, text in (explanations or {}).items():
        sheet, cell = manifest["checks"][rule_id]["explanation"].rsplit("!", 1)
        set_values[f"'{sheet}'!{cell}"] = text
    office.process(path, set_values=set_values, save_as=saved)
    return read_returned(saved), manifest


def test_clean_return_has_no_error(office, tmp_path):
    returned, _ = fill(office, tmp_path, CLEAN)
    findings = value_findings(FORM, returned)
    assert [f for f in findings if f.severity == "error"] == []
    assert {f.code for f in findings} == {"target-not-met"}  # 91.1 % of sites < 100 %


def test_explained_warning_is_info(office, tmp_path):
    returned, _ = fill(office, tmp_path, CLEAN,
                       {"target-not-met:IND_E4_01_05": "Сайты 160 школ обновляются"})
    (finding,) = value_findings(FORM, returned)
    assert finding.severity == "info" and "Сайты 160 школ" in finding.message


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_value_points_at_its_cell(office, tmp_path, case):
    changes, code, input_id = BAD[case]
    returned, manifest = fill(office, tmp_path, {**CLEAN, **changes})
    findings = [f for f in value_findings(FORM, returned) if f.code == code]
    sheet, cell = manifest["inputs"][input_id].rsplit("!", 1)
    assert (sheet, cell) in {(f.sheet, f.cell) for f in findings}, findings
    assert all(f.severity == "error" for f in findings)


def test_file_saved_without_calculated_values_gets_one_note(tmp_path):
    """openpyxl (an analyst's script) writes formulas without their results: one info finding
    names the indicators, no warning per indicator (the validator recomputes them anyway)."""
    path, manifest = write(tmp_path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    for input_id, value in CLEAN.items():
        sheet, row, col = split_address(manifest["inputs"][input_id])
        wb[sheet].cell(row + 1, col + 1, value)
    saved = tmp_path / "openpyxl.xlsm"
    wb.save(saved)
    findings = [f for f in value_findings(FORM, read_returned(saved))
                if f.code.startswith("indicator")]
    assert [(f.code, f.severity) for f in findings] == [("indicators-not-calculated", "info")]
    assert "E4.03" in findings[0].value and "openpyxl" in findings[0].message


def test_a_saved_value_that_differs_from_the_recomputation_is_stale(tmp_path):
    from cos_xl.xlsxpatch import Cached, Constant, XlsxPackage

    path, manifest = write(tmp_path)
    book = XlsxPackage(path.read_bytes())
    cells = {manifest["inputs"][k]: Constant(v) for k, v in CLEAN.items()
             if isinstance(v, int | float)}
    indicator = manifest["indicators"]["E4.03"]
    book.set_cells({**cells, indicator: Cached(12.5)})
    stale = tmp_path / "stale.xlsm"
    stale.write_bytes(book.to_bytes())
    findings = value_findings(FORM, read_returned(stale))
    found = [f for f in findings if f.code == "indicator-cache-stale"]
    assert [(f.name, f.severity, f.value) for f in found if f.name == "IND_E4_03"] == [
        ("IND_E4_03", "warning", 12.5)]
    assert "в файле 12,5" in found[0].message
