"""cos_xl.vba: the vbaProject.bin we build, read back by olevba and opened by LibreOffice.

How sources are compared: olevba's text with CRLF turned into LF must equal the source given,
``Attribute VB_Name = "…"`` line included (olevba keeps Attribute lines; the VBA editor hides
them and writes them back on export; LibreOffice drops them on import).

What LibreOffice 7.4 does with the project (pinned below, found by these tests):

- it imports every module into a Basic library ``VBAProject`` with ``Option VBASupport 1``,
  decoding the source with the project's code page (Cyrillic comments arrive intact);
- macros off (``macros=False``, and LibreOffice's default "High" macro security for an
  unsigned file): a call of a function the project defines gives ``#VALUE!`` (a name no module
  defines gives ``#NAME?``, macros on or off), so ``IFERROR(f(), x)`` falls back to ``x``;
- macros on, project without the xlwings modules: our functions run (``MYSEVEN()`` is 7), but a
  function returning ``CVErr(2042)`` gives the TEXT ``"Error 2042"``, which IFERROR does not
  catch (Calc turns any non-numeric, non-array Basic result into a string);
- macros on, project WITH the xlwings modules: LibreOffice's Basic cannot compile xlwings'
  ``xlwings`` module (``#If … Then`` around two alternative ``Function`` lines) nor the
  ``Dictionary`` class, and then no function of the library runs: every VBA function gives
  ``""`` (empty text), which IFERROR does not catch either;
- ``IFERROR(1*f(), x)`` falls back to ``x`` in every one of these cases.

The behaviour asked for but not delivered by LibreOffice is kept as strict xfail tests.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
import xlsxwriter
from conftest import require_tool
from pyopenvba import vba as ovba
from pyopenvba.cfb import CFB
from pyopenvba.integrity import check_file

from cos_xl.office import LibreOffice, libreoffice_available
from cos_xl.vba import (
    XLWINGS_MODULES,
    VbaProjectError,
    build_vba_project,
    read_vba_modules,
    xlwings_template,
)

# oletools 0.60 uses pyparsing names that pyparsing 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:oletools.*")

SHEETS = 3

UDFS = """\
Attribute VB_Name = "TestFns"
' Тестовые функции: комментарии по-русски, код только ASCII.
Option Explicit

Function MYSEVEN()
    MYSEVEN = 7
End Function

Function MYNA()
    ' #Н/Д в Excel
    MYNA = CVErr(2042)
End Function

Function MYPY(Optional a)
    ' The shape of an xlwings wrapper whose call into Python cannot work here.
    On Error GoTo failed
    MYPY = XLPy.CallUDF("cos_xl.udfs", "MYPY", Array(a, Nothing), ThisWorkbook, Application.Caller)
    Exit Function
failed:
    MYPY = CVErr(2042)
End Function
"""

HELPERS = """\
Attribute VB_Name = "Helpers"
' Вспомогательный модуль.
Public Function TWICE(x)
    TWICE = 2 * x
End Function
"""

#: cell -> formula on the first sheet of the LibreOffice workbooks
FORMULAS = {
    "A1": "=MYSEVEN()",
    "A2": "=IFERROR(MYNA(),42)",
    "A3": "=MYNA()",
    "A4": "=IFERROR(MYPY(1),42)",
    "A5": "=MYPY(1)",
    "A6": "=IFERROR(1*MYNA(),42)",
    "A7": "=IFERROR(1*MYPY(1),42)",
    "A8": "=IFERROR(MYSEVEN(),42)",
    "A9": "=NOSUCHUDF()",
    "A10": "=IFERROR(NOSUCHUDF(),42)",
}


def lf(text: str) -> str:
    return text.replace("\r\n", "\n")


@pytest.fixture(scope="module")
def project() -> bytes:
    return build_vba_project({"TestFns": UDFS, "Helpers": HELPERS}, sheet_count=SHEETS)


@pytest.fixture(scope="module")
def extracted(project: bytes) -> dict[str, str]:
    return read_vba_modules(project)


# ---------------------------------------------------------------------------------------------
# what olevba reads back
# ---------------------------------------------------------------------------------------------
def test_olevba_reads_the_given_sources_exactly(extracted: dict[str, str]) -> None:
    assert lf(extracted["TestFns"]) == UDFS
    assert lf(extracted["Helpers"]) == HELPERS
    assert "Тестовые функции" in extracted["TestFns"]  # decoded with the project's cp1251


def test_module_set_and_order(extracted: dict[str, str]) -> None:
    documents = ["ThisWorkbook", *(f"Sheet{i}" for i in range(1, SHEETS + 1))]
    assert list(extracted) == [*documents, *XLWINGS_MODULES, "TestFns", "Helpers"]
    assert "Module1" not in extracted
    for name in documents:
        lines = lf(extracted[name]).splitlines()
        assert lines[0] == f'Attribute VB_Name = "{name}"'
        base = "00020819" if name == "ThisWorkbook" else "00020820"  # workbook / worksheet
        assert lines[1] == f'Attribute VB_Base = "0{{{base}-0000-0000-C000-000000000046}}"'
        assert all(line.startswith("Attribute VB_") for line in lines)  # no code


def test_xlwings_modules_are_the_quickstarts(extracted: dict[str, str]) -> None:
    shipped = read_vba_modules(xlwings_template())
    assert set(shipped) == {"ThisWorkbook", "Sheet1", "Sheet2", "Module1", *XLWINGS_MODULES}
    for name in XLWINGS_MODULES:
        assert lf(extracted[name]).rstrip("\n") == lf(shipped[name]).rstrip("\n")
        assert extracted[name].count("\r\n") == extracted[name].count("\n")  # CRLF throughout
    assert 'Attribute VB_Name = "xlwings"' in extracted["xlwings"]
    assert "Function XLPy()" in extracted["xlwings"]


def test_deterministic() -> None:
    modules = {"TestFns": UDFS, "Helpers": HELPERS}
    first = build_vba_project(modules, sheet_count=SHEETS)
    assert build_vba_project(dict(modules), sheet_count=SHEETS) == first
    assert build_vba_project(modules, sheet_count=SHEETS + 1) != first


@pytest.mark.parametrize("sheet_count", [1, 2, 5])
def test_sheet_document_modules(sheet_count: int) -> None:
    names = list(read_vba_modules(build_vba_project({}, sheet_count=sheet_count)))
    sheets = [f"Sheet{i}" for i in range(1, sheet_count + 1)]
    assert names == ["ThisWorkbook", *sheets, *XLWINGS_MODULES]


def test_without_xlwings() -> None:
    names = list(read_vba_modules(build_vba_project({"TestFns": UDFS}, sheet_count=2,
                                                    include_xlwings=False)))
    assert names == ["ThisWorkbook", "Sheet1", "Sheet2", "TestFns"]


def test_line_ends_normalised() -> None:
    crlf = UDFS.replace("\n", "\r\n")
    no_final = UDFS.rstrip("\n")
    for source in (crlf, no_final):
        data = build_vba_project({"TestFns": source}, sheet_count=1)
        assert lf(read_vba_modules(data)["TestFns"]) == UDFS


# ---------------------------------------------------------------------------------------------
# the structures Excel reads
# ---------------------------------------------------------------------------------------------
def test_streams_and_records(project: bytes) -> None:
    ole = olefile.OleFileIO(project, raise_defects=olefile.DEFECT_INCORRECT)
    streams = {"/".join(p) for p in ole.listdir()}
    modules = ["ThisWorkbook", *(f"Sheet{i}" for i in range(1, SHEETS + 1)),
               *XLWINGS_MODULES, "TestFns", "Helpers"]
    assert streams == {"PROJECT", "PROJECTwm", "VBA/dir", "VBA/_VBA_PROJECT",
                       *(f"VBA/{m}" for m in modules)}
    # [MS-OVBA] 2.3.4.1: Version 0xFFFF, no PerformanceCache
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("cc61ffff000100")
    # every directory entry black ([MS-CFB] 2.6.4: no red entry with a red child)
    assert {e.color for e in ole.direntries if e is not None} == {1}

    parsed = ovba.parse_vba_project(CFB.from_bytes(project))
    assert parsed.code_page == 1251
    assert parsed.project_cookie == 0xFFFF
    assert [m.name for m in parsed.modules] == modules
    for m in parsed.modules:
        assert (m.text_offset, m.cookie, m.stream_name) == (0, 0xFFFF, m.name)
        kind = ovba.VBAModuleKind.standard if m.name in ("xlwings", "TestFns", "Helpers") \
            else ovba.VBAModuleKind.other
        assert m.kind == kind
    assert [r.name for r in parsed.references] == ["MSForms", "Office"]  # as xlwings ships them

    text = ole.openstream("PROJECT").read().decode("ascii")
    lines = text.split("\r\n")
    assert lines[0].startswith('ID="{')
    assert lines[1 : 1 + len(modules)] == [
        "Document=ThisWorkbook/&H00000000",
        *(f"Document=Sheet{i}/&H00000000" for i in range(1, SHEETS + 1)),
        "Module=xlwings", "Class=Dictionary", "Module=TestFns", "Module=Helpers",
    ]
    assert 'Name="VBAProject"' in lines
    assert "[Host Extender Info]" in lines
    workspace = lines[lines.index("[Workspace]") + 1 :]
    assert [line.split("=")[0] for line in workspace if line] == modules

    wm = ole.openstream("PROJECTwm").read()
    for m in modules:
        assert m.encode("ascii") + b"\x00" + m.encode("utf-16-le") + b"\x00\x00" in wm


@pytest.mark.parametrize("include_xlwings", [True, False])
def test_dir_stream_ends_at_its_terminator(include_xlwings: bool) -> None:
    # [MS-OVBA] 2.3.4.2: the last record is the Terminator, Id 0x0010 and Reserved u32 0
    # (read as a record of Size 0), after the last module's terminator 0x002B; nothing after
    from oletools.olevba import decompress_stream

    data = build_vba_project({"TestFns": UDFS}, sheet_count=SHEETS,
                             include_xlwings=include_xlwings)
    ole = olefile.OleFileIO(data)
    raw = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    records, pos = [], 0
    while pos + 6 <= len(raw):
        record_id, size = struct.unpack_from("<HI", raw, pos)
        records.append((record_id, size))
        pos += 6 + size + (2 if record_id == 0x0009 else 0)  # PROJECTVERSION: 2 bytes more
    assert pos == len(raw)
    assert records[-2:] == [(0x002B, 0), (0x0010, 0)]
    assert raw.endswith(bytes.fromhex("2b0000000000" "100000000000"))


def test_code_page_1252_refuses_cyrillic() -> None:
    with pytest.raises(VbaProjectError, match="cannot be written in cp1252"):
        build_vba_project({"TestFns": UDFS}, sheet_count=1, code_page=1252)
    ascii_only = 'Attribute VB_Name = "Plain"\nSub X()\nEnd Sub\n'
    data = build_vba_project({"Plain": ascii_only}, sheet_count=1, code_page=1252)
    assert ovba.parse_vba_project(CFB.from_bytes(data)).code_page == 1252


@pytest.mark.parametrize(
    ("modules", "sheet_count", "message"),
    [
        ({}, 0, "sheet_count"),
        ({"1abc": 'Attribute VB_Name = "1abc"\n'}, 1, "not a VBA identifier"),
        ({"Модуль": 'Attribute VB_Name = "Модуль"\n'}, 1, "not a VBA identifier"),
        ({"x" * 32: f'Attribute VB_Name = "{"x" * 32}"\n'}, 1, "not a VBA identifier"),
        ({"Debug": 'Attribute VB_Name = "Debug"\n'}, 1, "refused by the VBA editor"),
        ({"sheet1": 'Attribute VB_Name = "sheet1"\n'}, 1, "taken by 'Sheet1'"),
        ({"XLWINGS": 'Attribute VB_Name = "XLWINGS"\n'}, 1, "taken by 'xlwings'"),
        ({"Dictionary": 'Attribute VB_Name = "Dictionary"\n'}, 1, "taken by 'Dictionary'"),
        ({"Sheet3": 'Attribute VB_Name = "Sheet3"\n'}, 3, "taken by 'Sheet3'"),
        ({"DIR": 'Attribute VB_Name = "DIR"\n'}, 1, "taken by 'dir'"),
        ({"M": "Sub X()\nEnd Sub\n"}, 1, 'must start with the line Attribute VB_Name = "M"'),
        ({"M": 'Attribute VB_Name = "N"\n'}, 1, "must start with the line"),
        ({"M": 'Attribute VB_Name = "M"\n\x00'}, 1, "NUL"),
    ],
)
def test_bad_arguments(modules: dict[str, str], sheet_count: int, message: str) -> None:
    with pytest.raises(VbaProjectError, match=re.escape(message)):
        build_vba_project(modules, sheet_count=sheet_count)


def test_our_module_may_be_called_module1() -> None:
    # the quickstart's sample Module1 is left out, so the name is free
    data = build_vba_project({"Module1": 'Attribute VB_Name = "Module1"\n'}, sheet_count=1)
    assert lf(read_vba_modules(data)["Module1"]) == 'Attribute VB_Name = "Module1"\n'


def test_read_vba_modules_from_a_path(tmp_path: Path, project: bytes) -> None:
    path = tmp_path / "vbaProject.bin"
    path.write_bytes(project)
    assert read_vba_modules(path) == read_vba_modules(project)


# ---------------------------------------------------------------------------------------------
# an .xlsm with XlsxWriter, opened by LibreOffice
# ---------------------------------------------------------------------------------------------
def write_xlsm(path: Path, project: bytes) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_vba_project(io.BytesIO(project), is_stream=True)
    workbook.set_vba_name()  # ThisWorkbook (also XlsxWriter's default once a project is added)
    first = None
    for name in ("Данные", "Второй", "Третий"):
        sheet = workbook.add_worksheet(name)
        sheet.set_vba_name()  # Sheet1, Sheet2, Sheet3
        first = first or sheet
    for cell, formula in FORMULAS.items():
        first.write_formula(cell, formula)
    workbook.close()
    return path


def test_xlsm_code_names(tmp_path: Path, project: bytes) -> None:
    path = write_xlsm(tmp_path / "book.xlsm", project)
    with zipfile.ZipFile(path) as package:
        assert package.read("xl/vbaProject.bin") == project
        assert b'codeName="ThisWorkbook"' in package.read("xl/workbook.xml")
        for i in range(1, SHEETS + 1):
            assert f'codeName="Sheet{i}"'.encode() in package.read(f"xl/worksheets/sheet{i}.xml")
        types = package.read("[Content_Types].xml")
        assert b"application/vnd.ms-office.vbaProject" in types
        assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    assert read_vba_modules(path) == read_vba_modules(project)  # olevba reads the package too
    report = check_file(path)  # pyopenvba's package + compound-file diagnostics
    assert report.complete and not report.issues, report.issues


@pytest.fixture(scope="module")
def office():
    require_tool(libreoffice_available(), "LibreOffice headless (soffice + python3-uno)")
    with LibreOffice() as lo:
        yield lo


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, project: bytes) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vba_books")
    plain = build_vba_project({"TestFns": UDFS, "Helpers": HELPERS}, sheet_count=SHEETS,
                              include_xlwings=False)
    return {
        "xlwings": write_xlsm(folder / "with_xlwings.xlsm", project),
        "plain": write_xlsm(folder / "without_xlwings.xlsm", plain),
    }


@pytest.fixture(scope="module")
def results(office: LibreOffice, books: dict[str, Path]) -> dict[tuple[str, bool], dict]:
    out = {}
    for kind, path in books.items():
        for macros in (True, False):
            values = office.process(path, read=[f"'Данные'!{c}" for c in FORMULAS], macros=macros)
            out[kind, macros] = {key.split("!")[1]: value for key, value in values.items()}
    return out


@pytest.mark.libreoffice
def test_libreoffice_imports_the_modules(office: LibreOffice, books: dict[str, Path],
                                         tmp_path: Path) -> None:
    target = tmp_path / "imported.ods"
    office.process(books["xlwings"], macros=True, save_as=target)
    with zipfile.ZipFile(target) as package:
        names = {n.rsplit("/", 1)[1][:-4] for n in package.namelist()
                 if n.startswith("Basic/VBAProject/") and n.endswith(".xml")}
        udfs = package.read("Basic/VBAProject/TestFns.xml").decode("utf-8")
    assert names >= {"ThisWorkbook", "Sheet1", "Sheet2", "Sheet3", *XLWINGS_MODULES,
                     "TestFns", "Helpers"}
    assert "Option VBASupport 1" in udfs
    assert "Тестовые функции" in udfs  # cp1251 decoded
    assert "Attribute VB_Name" not in udfs


@pytest.mark.libreoffice
def test_libreoffice_runs_our_module(results: dict) -> None:
    plain = results["plain", True]
    assert plain["A1"] == 7.0  # MYSEVEN()
    assert plain["A8"] == 7.0  # IFERROR(MYSEVEN(),42)
    # CVErr(2042) comes out as the text "Error 2042"; the wrapper shape does the same
    assert plain["A3"] == "Error 2042"
    assert plain["A2"] == "Error 2042"
    assert plain["A5"] == "Error 2042"
    assert plain["A4"] == "Error 2042"
    # a number is needed to get past 1*…
    assert plain["A6"] == 42.0
    assert plain["A7"] == 42.0


@pytest.mark.libreoffice
def test_libreoffice_with_xlwings_runs_nothing(results: dict) -> None:
    broken = results["xlwings", True]
    for cell in ("A1", "A2", "A3", "A4", "A5", "A8"):
        assert broken[cell] == "", (cell, FORMULAS[cell])
    assert broken["A6"] == 42.0
    assert broken["A7"] == 42.0


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", ["xlwings", "plain"])
def test_libreoffice_without_macros(results: dict, kind: str) -> None:
    values = results[kind, False]
    for cell in ("A1", "A3", "A5"):  # a function of the project, not run: #VALUE!
        assert values[cell] == {"error": "#VALUE!"}, (cell, FORMULAS[cell])
    for cell in ("A2", "A4", "A6", "A7", "A8", "A10"):
        assert values[cell] == 42.0, (cell, FORMULAS[cell])


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", ["xlwings", "plain"])
@pytest.mark.parametrize("macros", [True, False])
def test_libreoffice_unknown_function(results: dict, kind: str, macros: bool) -> None:
    assert results[kind, macros]["A9"] == {"error": "#NAME?"}
    assert results[kind, macros]["A10"] == 42.0


@pytest.mark.libreoffice
@pytest.mark.xfail(strict=True, reason="LibreOffice 7.4 cannot compile the xlwings modules, "
                   "and then no VBA function of the workbook runs (each gives '')")
def test_wanted_libreoffice_runs_our_module_beside_xlwings(results: dict) -> None:
    assert results["xlwings", True]["A1"] == 7.0


@pytest.mark.libreoffice
@pytest.mark.xfail(strict=True, reason="LibreOffice 7.4 turns CVErr(2042) into the text "
                   "'Error 2042', which IFERROR does not catch")
def test_wanted_libreoffice_iferror_catches_cverr(results: dict) -> None:
    assert results["plain", True]["A2"] == 42.0


@pytest.mark.libreoffice
@pytest.mark.xfail(strict=True, reason="with the xlwings modules embedded, the wrapper gives '' "
                   "in LibreOffice 7.4 with macros on; IFERROR(1*…) is needed")
def test_wanted_libreoffice_iferror_catches_failed_wrapper(results: dict) -> None:
    assert results["xlwings", True]["A4"] == 42.0
