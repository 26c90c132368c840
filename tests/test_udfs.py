"""The COS_* functions: xlwings' own decorator rules really run on them, the VBA wrappers match
what xlwings' "Import Functions" writes (but for the deliberate #N/A on failure), the committed
module is current, and the functions compute what the validator computes."""

from __future__ import annotations

import importlib
import inspect
import io
import sys
from pathlib import Path
from unittest import mock

import openpyxl
import pytest

import cos_xl.udfs
from cos_xl import udf_core
from cos_xl.cli import app
from cos_xl.spec import load_form
from cos_xl.vba import wrappers
from helpers import write

FORM = load_form()
WINDOWS_ONLY = ("pythoncom", "pywintypes", "win32com", "win32com.client")


@pytest.fixture()
def real_xlwings_udfs():
    """xlwings.udfs (the Windows implementation of the decorators and of "Import Functions")
    imported with its Windows-only modules stubbed, and cos_xl.udfs re-imported through it."""
    import xlwings
    stubs = {name: mock.MagicMock(name=name) for name in WINDOWS_ONLY}
    with mock.patch.dict(sys.modules, stubs):
        sys.modules.pop("xlwings.udfs", None)
        real = importlib.import_module("xlwings.udfs")
        with mock.patch.object(xlwings, "func", real.xlfunc), \
             mock.patch.object(xlwings, "arg", real.xlarg), \
             mock.patch.object(xlwings, "ret", real.xlret):
            module = importlib.reload(cos_xl.udfs)
        yield real, module
    sys.modules.pop("xlwings.udfs", None)
    importlib.reload(cos_xl.udfs)


def test_xlwings_accepts_every_udf_and_documents_every_argument(real_xlwings_udfs):
    _, module = real_xlwings_udfs
    for function in module.UDFS:
        meta = function.__xlfunc__
        assert meta["category"] == module.CATEGORY
        assert meta["ret"]["doc"] == function.__doc__
        args = [a["name"] for a in meta["args"]]
        assert args[-1] == "caller", function.__name__
        for arg in meta["args"]:
            if arg["name"] not in ("caller", "code"):
                assert not arg["doc"].startswith("Positional argument"), arg["name"]
    for ind in FORM.indicators:
        function = getattr(module, ind.spec.udf)
        assert [a["name"] for a in function.__xlfunc__["args"]][:-1] == ind.arguments


@pytest.mark.parametrize("source", [
    "def bad(a, *, b=1): return a",          # keyword-only argument
    "def bad(a, **kw): return a",            # keyword arguments
    "def bad(*args, b=1): return b",         # defaults mixed with *args
])
def test_xlwings_rules_are_enforced(real_xlwings_udfs, source):
    real, _ = real_xlwings_udfs
    namespace: dict = {}
    exec(source, namespace)
    with pytest.raises(Exception, match="xlwings does not support"):
        real.xlfunc(namespace["bad"])


def test_wrappers_match_xlwings_import_functions(real_xlwings_udfs):
    real, module = real_xlwings_udfs
    book = mock.MagicMock()
    book.Name = "cos_2020Q3_77.xlsm"
    out = io.StringIO()
    real.generate_vba_wrapper(wrappers.UDF_MODULE, module, out, book)
    theirs = [line.strip() for line in out.getvalue().splitlines()]
    for function in module.UDFS:
        name = function.__name__
        ours = [line.strip() for line in wrappers.wrapper(function).splitlines()]
        assert ours[0] in theirs, ours[0]  # the signature
        call = next(line for line in ours if "XLPy.CallUDF" in line)
        assert call in theirs, call  # the XLPy.CallUDF line of the Excel branch
        assert f"{name} = Err.Description" in theirs  # what we replace on purpose
        assert ours[-2] == f"{name} = CVErr(2042)"
        # ours adds the function wizard's description where the VBA editor writes it
        assert ours[1] == f'Attribute {name}.VB_Description = "{function.__vba_description__}"'


def test_every_wrapper_has_an_ascii_description_saying_what_it_computes():
    source = wrappers.module_source()
    for function in cos_xl.udfs.UDFS:
        text = function.__vba_description__
        assert text.isascii() and text.isprintable() and '"' not in text
        assert 0 < len(text) <= wrappers.MAX_DESCRIPTION
        assert f'Attribute {function.__name__}.VB_Description = "{text}"' in source
    for ind in FORM.indicators:
        text = getattr(cos_xl.udfs, ind.spec.udf).__vba_description__
        assert text.startswith(f"Indicator {ind.spec.code}, ")
        assert all(name in text for name in ind.arguments)  # its formula over the inputs
    assert cos_xl.udfs.COS_E408.__vba_description__.startswith(
        "Indicator E4.08, percent: 100 * e408_go / teachers_go.")


@pytest.mark.parametrize("text", ["", "Доля обучающихся", 'say "hi"', "two\nlines", "x" * 256])
def test_a_description_vba_cannot_carry_is_refused(text):
    from cos_xl.vba import VbaProjectError
    with pytest.raises(VbaProjectError, match="VB_Description"):
        wrappers.vba_description(text)


def test_descriptions_are_not_compared():
    """LibreOffice drops a procedure's attributes when it saves the project: the validator's
    digest of a module does not depend on its descriptions (nor on anything else LibreOffice
    rewrites), but does on its code."""
    source = wrappers.module_source()
    without = "\n".join(line for line in source.split("\n")
                        if ".VB_Description = " not in line) + "\n"
    assert without != source
    assert wrappers.normalised_source(without) == wrappers.normalised_source(source)
    changed = source.replace("CVErr(2042)", "CVErr(2007)", 1)
    assert wrappers.normalised_source(changed) != wrappers.normalised_source(source)


def test_committed_macros_are_current(tmp_path):
    from typer.testing import CliRunner
    runner = CliRunner()
    assert runner.invoke(app, ["macros", "--check"]).exit_code == 0
    fresh = tmp_path / "fresh"
    assert runner.invoke(app, ["macros", "--dir", str(fresh)]).exit_code == 0
    committed = {p.name: p.read_bytes() for p in wrappers.macros_dir().iterdir()
                 if p.suffix in (".bas", ".cls")}
    assert {p.name: p.read_bytes() for p in fresh.iterdir()} == committed
    stale = fresh / "xlwings_udfs.bas"
    stale.write_bytes(stale.read_bytes().replace(b"COS_E403", b"COS_E999", 1))
    result = runner.invoke(app, ["macros", "--check", "--dir", str(fresh)])
    assert result.exit_code == 1 and "xlwings_udfs.bas" in result.output


def test_udf_parameters_are_the_indicator_inputs():
    for ind in FORM.indicators:
        function = getattr(cos_xl.udfs, ind.spec.udf)
        params = list(inspect.signature(function).parameters)
        assert params == ind.arguments + ["caller"]


class OpenpyxlBook:
    """udf_core.BookReader over a workbook read with openpyxl (stands in for xlwings' Book)."""

    def __init__(self, path: Path):
        self.wb = openpyxl.load_workbook(path)

    def name_value(self, name):
        (sheet, cell), = self.wb.defined_names[name].destinations
        return self.wb[sheet][cell.replace("$", "")].value

    def cell_value(self, sheet, cell):
        return self.wb[sheet][cell].value


@pytest.fixture()
def filled_book(tmp_path):
    path, manifest = write(tmp_path)
    wb = openpyxl.load_workbook(path)
    values = {"students_go": 1000, "e403_go": 1200, "orgs_go": 10, "teachers_go": 80,
              "resp_email": "ivanova@edu.ru"}
    for input_id, value in values.items():
        sheet, cell = manifest["inputs"][input_id].rsplit("!", 1)
        wb[sheet][cell] = value
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)  # a test fixture only: templates are never written with openpyxl
    return OpenpyxlBook(filled), manifest


def test_indicator_without_arguments_reads_the_calling_workbook(filled_book):
    book, _ = filled_book
    assert cos_xl.udfs.COS_E403(caller=None) == ""
    assert udf_core.indicator("E4.03", {}, book) == pytest.approx(120.0)
    assert udf_core.indicator("E4.03", {"e403_go": 10, "students_go": 100}, book) == 10.0
    assert cos_xl.udfs.COS_E408(8, 80) == 10.0


def test_cos_check_reports_what_the_validator_will(filled_book):
    book, manifest = filled_book
    rows = udf_core.check_book(book)
    assert rows[0] == udf_core.CHECK_HEADER
    found = {(code, cell) for code, _, cell, _ in rows[1:]}
    assert ("part-exceeds-total", manifest["inputs"]["e403_go"]) in found
    assert ("value-missing", manifest["inputs"]["resp_name"]) in found
    assert ("pupils-per-teacher", manifest["inputs"]["teachers_go"]) not in found  # 12.5 is fine
    messages = [m for code, _, cell, m in rows if code == "part-exceeds-total"]
    assert messages == ["стр. 1.2 «ОО: цифровой профиль и план»: 1200 — больше, чем "
                        "стр. 1.1 «обучающиеся ОО»: 1000."]


def test_target_and_version(filled_book):
    book, _ = filled_book
    assert udf_core.target("E4.01.05", book) == 100.0
    assert udf_core.target("E4.03", book) == ""
    with pytest.raises(udf_core.UdfError, match="E9.99"):
        udf_core.target("E9.99", book)
    assert udf_core.version(book).startswith("cos-xl ")


def test_olevba_extracts_exactly_the_committed_macros(tmp_path):
    from cos_xl.vba import read_vba_modules
    path, manifest = write(tmp_path)
    modules = read_vba_modules(path)
    documents = {"ThisWorkbook"} | {f"Sheet{i}" for i in range(1, 20)}
    extracted = {name: code.replace("\r\n", "\n") for name, code in modules.items()
                 if name not in documents}
    committed = {p.stem: p.read_bytes().decode("cp1251").replace("\r\n", "\n")
                 for p in wrappers.macros_dir().iterdir() if p.suffix in (".bas", ".cls")}
    assert extracted == committed
    assert set(committed) == {"xlwings_udfs", "xlwings", "Dictionary"}
    assert set(manifest["vba_modules"]) == {wrappers.MODULE_NAME}
