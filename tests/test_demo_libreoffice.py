"""The demo through a real office program: a file filled without one is recalculated by
LibreOffice to the values cached in it, and returns filled and saved by LibreOffice get the
verdicts and findings their scenarios declare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import DEV_KEY

from cos_xl import core
from cos_xl.demo.libreoffice import write_returns_libreoffice
from cos_xl.demo.mistakes import plan_round, returned_bytes, template_path
from cos_xl.generate import generate
from cos_xl.spec import load_form
from cos_xl.validate.ooxml import read_package
from cos_xl.validate.run import validate_file

pytestmark = pytest.mark.libreoffice
PERIOD = "2020Q3"
REGIONS = ["50", "77", "78"]


@pytest.fixture(scope="module")
def round_(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lo_round")
    plan = plan_round(PERIOD, 0, REGIONS, scenarios=["formula-pasted-over", "number-as-text"],
                      missing=0)
    generate(PERIOD, folder / "templates", DEV_KEY, regions=REGIONS)
    return plan, folder


def _decimal_comma(value: object) -> object:
    return re.sub(r"(\d)\.(\d)", r"\1,\2", value) if isinstance(value, str) else value


def test_libreoffice_recalculates_to_the_cached_values(office, round_, tmp_path):
    """The indicators (by their defined names) equal the core, and every formula cell of the
    indicator and check sheets (numerators, statuses, each check, the check summary) holds what
    LibreOffice computes on opening the file."""
    plan, folder = round_
    form = load_form()
    for send in plan.sends:
        if send.pastes:
            continue  # a constant pasted over a formula is not a cached value
        data = returned_bytes(send, template_path(folder / "templates", PERIOD,
                                                  send.region_code).read_bytes())
        path = tmp_path / send.filename
        path.write_bytes(data)
        package = read_package(data)
        names = [ind.spec.name for ind in form.indicators]
        cells = [(sheet.name, ref) for sheet in package.sheets
                 if sheet.name in ("Показатели", "Проверки")
                 for ref, cell in sheet.cells.items() if cell.formula]
        got = office.process(path, read=names + [f"'{s}'!{r}" for s, r in cells])
        ns = core.namespace(form, send.values)
        for ind in form.indicators:
            value, computed = got[ind.spec.name], ns[ind.spec.name]
            if computed is core.ERROR:  # a text in a total: #VALUE! in the workbook
                assert isinstance(value, dict), ind.spec.code
            elif computed is None:
                assert value in (None, ""), ind.spec.code
            else:
                assert value == pytest.approx(computed, rel=1e-12), ind.spec.code
        for sheet, ref in cells:
            cached = package.sheet(sheet).cells[ref].value
            value = got[f"'{sheet}'!{ref}"]
            if isinstance(value, dict):  # an error value
                assert cached == "#VALUE!", (sheet, ref, value)
            elif isinstance(value, float) and isinstance(cached, float):
                assert value == pytest.approx(cached, rel=1e-12), (sheet, ref)
            else:
                assert _decimal_comma(value or None) == _decimal_comma(cached or None), (sheet, ref)


def test_returns_filled_and_saved_by_libreoffice(office, round_, tmp_path):
    plan, folder = round_
    files = write_returns_libreoffice(plan, folder / "templates", tmp_path, office)
    assert [f.send for f in files] == list(plan.sends)
    for planned in files:
        result = validate_file(planned.path, DEV_KEY, allow_dev_key=True)
        assert result.verdict == planned.expected.verdict, [
            (f.code, f.message) for f in result.findings]
        assert sorted((f.code, f.severity, f.sheet, f.cell) for f in result.findings) == \
            planned.expected.keys()
        assert Path(planned.path).stat().st_mtime == planned.send.received_at.timestamp()
    assert {f.expected.verdict for f in files} == {"FAIL", "PASS"}
