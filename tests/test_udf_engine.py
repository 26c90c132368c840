"""The UDF cells of a filled workbook, evaluated by a formula engine (``formulas``) with the
``COS_*`` functions registered, give the values of the Python core, and the agreement column
says so; without them the cells fall back to the native formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cos_xl import core, udfs
from cos_xl.spec import load_form
from cos_xl.template.sheet_indicators import (
    AGREE_NO, AGREE_YES, ENGINE_NATIVE, ENGINE_ROW, ENGINE_UDF_DIFF, ENGINE_UDF_SAME,
    STATUS_NONE, ZERO_DENOMINATOR,
)
from helpers import write

formulas = pytest.importorskip("formulas")
from formulas.functions import wrap_ranges_func  # noqa: E402
from formulas.tokens.operand import Error  # noqa: E402

FORM = load_form()
FILE = "udf.xlsx"
VALUES = {"students_go": 1_250_000, "e403_go": 1_100_000, "e404_go": 900_000, "e407_go": 30_000,
          "orgs_go": 1_500, "e405_go": 1_400, "e40105_go": 1_350, "teachers_go": 95_000,
          "e408_go": 40_000, "e40111_students": 120_000, "e40111_orgs_go": 400,
          "students_do": 800_000, "e403_do": 500_000, "e404_do": 450_000, "orgs_do": 300,
          "e405_do": 250, "e40105_do": 290, "students_spo": 0, "e403_spo": 0, "e404_spo": 0,
          "e407_spo": 0, "orgs_spo": 0, "e405_spo": 0, "e40107": 2_500}


def _plain(value):
    if isinstance(value, np.ndarray):
        value = value.ravel()[0]
    if type(value).__name__ == "XlError":
        raise ValueError(str(value))
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, str) and value in ("", "empty"):
        return None
    return None if value is None or type(value).__name__ == "Empty" else value


def registered(function):
    """The UDF as formulas calls it: ranges in, an Excel error value out on failure."""
    def call(*args):
        try:
            result = function(*[_plain(a) for a in args])
        except Exception:
            return Error.errors["#N/A"]
        return result
    return wrap_ranges_func(call)


def key(address: str, file: str = FILE) -> str:
    sheet, cell = address.rsplit("!", 1)
    return f"'[{file}]{sheet.upper()}'!{cell}"


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    return write(tmp_path_factory.mktemp("udf"), FILE)


def evaluate(workbook, with_udfs: bool, inputs: dict | None = None, override=None):
    path, manifest = workbook
    functions = formulas.get_functions()
    saved = {f.__name__: functions.get(f.__name__) for f in udfs.UDFS}
    try:
        for function in udfs.UDFS:
            if with_udfs:
                own = (override or {}).get(function.__name__, function)
                functions[function.__name__] = registered(own)
            else:
                functions.pop(function.__name__, None)
        model = formulas.ExcelModel().loads(str(path)).finish()
        if inputs is None:
            inputs = {key(manifest["inputs"][k]): v for k, v in VALUES.items()}
        return model.calculate(inputs=inputs), manifest
    finally:
        for name, previous in saved.items():
            if previous is None:
                functions.pop(name, None)
            else:
                functions[name] = previous


def value_at(solution, address, file: str = FILE):
    value = solution[key(address, file)].value[0][0]
    return value.item() if hasattr(value, "item") else value


@pytest.mark.parametrize("with_udfs, agreement, engine", [
    (True, AGREE_YES, ENGINE_UDF_SAME), (False, "", ENGINE_NATIVE)])
def test_udf_cells_equal_the_core(workbook, with_udfs, agreement, engine):
    solution, manifest = evaluate(workbook, with_udfs)
    expected = core.compute_indicators(FORM, VALUES)
    for ind in FORM.indicators:
        address = manifest["names"][ind.spec.name]
        got = value_at(solution, address)
        want = expected[ind.spec.code].value
        if want is None:
            assert got == "", ind.spec.code
        else:
            assert math.isclose(got, want, rel_tol=1e-12), (ind.spec.code, got, want)
        sheet, cell = address.rsplit("!", 1)
        agree = value_at(solution, f"{sheet}!K{cell[1:]}")
        assert agree == agreement, (ind.spec.code, agree)
    # One line above the table says how the values were computed.
    assert value_at(solution, f"{sheet}!A{ENGINE_ROW + 1}") == engine


@pytest.mark.parametrize("with_udfs", [True, False])
def test_a_zero_denominator_is_a_dash_and_a_note_not_an_error(workbook, with_udfs):
    inputs = {**VALUES, "teachers_go": 0, "e408_go": 0}
    path, manifest = workbook
    solution, _ = evaluate(workbook, with_udfs,
                           inputs={key(manifest["inputs"][k]): v for k, v in inputs.items()})
    sheet, cell = manifest["names"]["IND_E4_08"].rsplit("!", 1)
    row = cell[1:]
    assert value_at(solution, f"{sheet}!{cell}") == ""  # the named value stays empty
    assert value_at(solution, f"{sheet}!H{row}") == STATUS_NONE
    assert value_at(solution, f"{sheet}!K{row}") == ""  # nothing to compare
    assert value_at(solution, f"{sheet}!L{row}") == ZERO_DENOMINATOR
    other = manifest["names"]["IND_E4_03"].rsplit("!", 1)[1][1:]
    assert value_at(solution, f"{sheet}!L{other}") == ""


def test_a_udf_that_disagrees_is_marked_and_named_above_the_table(workbook):
    def skewed(*args):
        return udfs.COS_E403(*args) + 1  # what a stale add-in might compute

    solution, manifest = evaluate(workbook, True, override={"COS_E403": skewed})
    marks = {}
    for ind in FORM.indicators:
        sheet, cell = manifest["names"][ind.spec.name].rsplit("!", 1)
        marks[ind.spec.code] = value_at(solution, f"{sheet}!K{cell[1:]}")
    assert marks.pop("E4.03") == AGREE_NO
    assert set(marks.values()) == {AGREE_YES}
    assert value_at(solution, f"{sheet}!A{ENGINE_ROW + 1}") == ENGINE_UDF_DIFF


@pytest.mark.parametrize("with_udfs, verdict", [(True, "работает"), (False, "НЕ работает")])
def test_udf_selftest_workbook(tmp_path, with_udfs, verdict):
    from cos_xl.template.selftest import CASES, SHEET, build_selftest
    path = tmp_path / "selftest.xlsm"
    path.write_bytes(build_selftest())
    solution, _ = evaluate((path, {}), with_udfs, inputs={})
    for row in range(5, 5 + len(CASES)):
        assert value_at(solution, f"{SHEET}!D{row}", path.name) == verdict, row
