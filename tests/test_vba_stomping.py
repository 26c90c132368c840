"""VBA stomping: compiled code (p-code) that is not what the module's source says.

The projects we issue carry no p-code at all (every module stream is compressed source from
offset 0, ``_VBA_PROJECT`` is the seven bytes of Version 0xFFFF), and neither do the projects
LibreOffice saves; Excel writes p-code when it saves. Real p-code comes from the xlwings
package: ``quickstart.xlsm`` was saved by Excel (p-code in every module and the project's
identifier table), and ``quickstart_standalone.xlsm`` keeps the p-code of its modules but not the
table. A stomped project is made here as EvilClippy makes one: a module's compressed source is
replaced and its p-code kept; or our own module keeps its source and is given another's p-code.
"""

from __future__ import annotations

import importlib.resources
import io
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
from conftest import require_tool
from helpers import DEV_KEY, write
from pyopenvba import vba as ovba
from pyopenvba.cfb import CFB

from cos_xl.office import LibreOffice, libreoffice_available
from cos_xl.template.builder import SHEETS, vba_modules, vba_project
from cos_xl.validate.run import validate_file
from cos_xl.vba import build_vba_project, read_vba_modules, xlwings_template
from cos_xl.vba.read import decompressed, read_dir
from cos_xl.vba.stomping import StompedModule, stomped_modules
from cos_xl.vba.wrappers import MODULE_NAME

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:oletools.*")

BENIGN = 'Attribute VB_Name = "Module1"\nSub SampleCall()\n    MsgBox "Hello"\nEnd Sub\n'


@pytest.fixture(scope="module")
def excel_saved() -> bytes:
    """xlwings' quickstart.xlsm project, as Excel saved it: p-code and identifier table."""
    resource = importlib.resources.files("xlwings") / "quickstart.xlsm"
    with resource.open("rb") as fh, zipfile.ZipFile(fh) as package:
        return package.read("xl/vbaProject.bin")


def modules_of(project: bytes) -> dict:
    ole = olefile.OleFileIO(io.BytesIO(project))
    try:
        project_dir = read_dir(decompressed(ole.openstream("VBA/dir").read()))
    finally:
        ole.close()
    return {m.name: m for m in project_dir.modules}


def with_source(project: bytes, module: str, source: str) -> bytes:
    """The project with ``module``'s source replaced and its p-code kept (stomping)."""
    record = modules_of(project)[module]
    cfb = CFB.from_bytes(project)
    raw = cfb.get_stream_in_storage("VBA", record.stream)
    text = source.replace("\r\n", "\n").replace("\n", "\r\n").encode("cp1252")
    cfb.write_stream_in_storage("VBA", record.stream, raw[:record.offset] + ovba.compress(text))
    return cfb.to_bytes()


def with_pcode(project: bytes, module: str, donor: bytes, donor_module: str) -> bytes:
    """The project with ``module``'s source kept and the p-code of ``donor_module`` of
    ``donor`` put before it (MODULEOFFSET moved), and the donor's ``_VBA_PROJECT``."""
    record = modules_of(project)[module]
    given = modules_of(donor)[donor_module]
    cfb = CFB.from_bytes(project)
    pcode = CFB.from_bytes(donor).get_stream_in_storage("VBA", given.stream)[:given.offset]
    source = cfb.get_stream_in_storage("VBA", record.stream)[record.offset:]
    cfb.write_stream_in_storage("VBA", record.stream, pcode + source)
    dir_data = decompressed(cfb.get_stream_in_storage("VBA", "dir"))
    cfb.write_stream_in_storage("VBA", "dir",
                                ovba.compress(_offset_set(dir_data, module, len(pcode))))
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT",
                                CFB.from_bytes(donor).get_stream_in_storage("VBA", "_VBA_PROJECT"))
    return cfb.to_bytes()


def _offset_set(dir_data: bytes, module: str, offset: int) -> bytes:
    pos, current = 0, None
    while pos + 6 <= len(dir_data):
        rid, size = struct.unpack_from("<HI", dir_data, pos)
        if rid == 0x0019:
            current = dir_data[pos + 6:pos + 6 + size].decode("latin-1")
        elif rid == 0x0031 and current == module:
            return dir_data[:pos + 6] + struct.pack("<I", offset) + dir_data[pos + 10:]
        pos += 6 + size + (2 if rid == 0x0009 else 0)
    raise AssertionError(f"no MODULEOFFSET for {module}")


def olevba_says_stomped(project: bytes, tmp_path: Path) -> bool:
    from oletools.olevba import VBA_Parser

    path = tmp_path / "vbaProject.bin"  # olevba looks at p-code only in a file on disk
    path.write_bytes(project)
    parser = VBA_Parser(str(path))
    try:
        return parser.detect_vba_stomping()
    finally:
        parser.close()


# ---------------------------------------------------------------------------------------------
# honest projects
# ---------------------------------------------------------------------------------------------
def test_our_projects_have_no_pcode_and_are_passed_without_disassembling(monkeypatch):
    from pcodedmp import pcodedmp

    def refuse(*args, **kwargs):
        raise AssertionError("a project without p-code was disassembled")

    monkeypatch.setattr(pcodedmp, "pcodeDump", refuse)
    for project in (vba_project(), build_vba_project({}, sheet_count=2, include_xlwings=False)):
        assert {m.offset for m in modules_of(project).values()} == {0}
        ole = olefile.OleFileIO(io.BytesIO(project))
        assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("cc61ffff000100")
        ole.close()
        assert stomped_modules(project) == ()


def test_pcode_as_excel_saved_it_is_not_stomped(excel_saved: bytes, tmp_path: Path):
    assert modules_of(excel_saved)["Module1"].offset > 0
    assert stomped_modules(excel_saved) == ()
    assert not olevba_says_stomped(excel_saved, tmp_path)


def test_pcode_without_the_identifier_table_is_not_stomped(tmp_path: Path):
    # xlwings' standalone quickstart: module p-code kept, _VBA_PROJECT emptied (0xFFFF)
    standalone = xlwings_template()
    assert modules_of(standalone)["Dictionary"].offset > 0
    assert stomped_modules(standalone) == ()
    assert not olevba_says_stomped(standalone, tmp_path)


def test_case_of_names_does_not_matter(excel_saved: bytes):
    source = read_vba_modules(excel_saved)["Module1"]
    recased = source.replace("RunPython", "runpython").replace("mymodule", "MyModule")
    assert stomped_modules(with_source(excel_saved, "Module1", recased)) == ()


def test_an_unreadable_project_is_left_to_the_source_comparison():
    assert stomped_modules(b"not a compound file") == ()
    assert stomped_modules(vba_project()[:2048]) == ()


# ---------------------------------------------------------------------------------------------
# stomped projects
# ---------------------------------------------------------------------------------------------
def test_other_source_over_the_pcode_is_stomped(excel_saved: bytes, tmp_path: Path):
    stomped = with_source(excel_saved, "Module1", BENIGN)
    assert read_vba_modules(stomped)["Module1"].replace("\r\n", "\n") == BENIGN
    [module] = stomped_modules(stomped)
    assert module.name == "Module1"
    assert {"RunPython", "mymodule", '"import "'} <= set(module.unmatched)
    assert "MsgBox" not in module.unmatched
    assert olevba_says_stomped(stomped, tmp_path)  # olevba agrees (for the whole project)


@pytest.mark.parametrize(("old", "new", "unmatched"), [
    ('".main()"', '".run()"', '".main()"'),  # a string the p-code still holds
    ("RunPython", "RunFrozenPython", "RunPython"),  # a call the p-code still makes
    ("mymodule", "mod", "mymodule"),  # a variable the p-code still stores
])
def test_one_edit_under_the_pcode_is_stomped(excel_saved: bytes, old, new, unmatched):
    source = read_vba_modules(excel_saved)["Module1"]
    assert old in source
    stomped = with_source(excel_saved, "Module1", source.replace(old, new))
    assert stomped_modules(stomped) == (StompedModule("Module1", (unmatched,)),)


def test_pcode_without_the_identifier_table_is_checked_too():
    standalone = xlwings_template()
    stomped = with_source(standalone, "Module1", BENIGN)
    [module] = stomped_modules(stomped)
    assert module.name == "Module1" and '"import "' in module.unmatched


def test_a_name_in_another_module_does_not_hide_a_stomped_one(excel_saved: bytes):
    # olevba compares with all modules' text at once; here each module with its own
    source = read_vba_modules(excel_saved)["Module1"]
    sheet = read_vba_modules(excel_saved)["Sheet1"]
    stomped = with_source(with_source(excel_saved, "Module1", BENIGN), "Sheet1",
                          sheet + "' " + source.replace("\n", "\n' "))
    assert [m.name for m in stomped_modules(stomped)] == ["Module1"]


# ---------------------------------------------------------------------------------------------
# in the validator
# ---------------------------------------------------------------------------------------------
def returned_with(tmp_path: Path, project: bytes) -> Path:
    template, _ = write(tmp_path, "template.xlsm")
    path = tmp_path / "cos_2020Q3_77.xlsm"
    with zipfile.ZipFile(template) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            new.writestr(item, project if item.filename == "xl/vbaProject.bin" else data)
    return path


def codes(path: Path) -> set[str]:
    return {f.code for f in validate_file(path, DEV_KEY, allow_dev_key=True).findings}


def test_our_source_over_foreign_pcode_fails_as_stomped(tmp_path: Path, excel_saved: bytes):
    """The source is byte for byte ours, so the source comparison passes; what Excel would run
    is quickstart's SampleCall."""
    issued = vba_project()
    stomped = with_pcode(issued, MODULE_NAME, excel_saved, "Module1")
    assert read_vba_modules(stomped)[MODULE_NAME] == read_vba_modules(issued)[MODULE_NAME]
    result = validate_file(returned_with(tmp_path, stomped), DEV_KEY, allow_dev_key=True)
    found = {f.code: f for f in result.findings}
    assert result.verdict == "FAIL"
    assert "vba-changed" not in found
    assert found["vba-stomped"].severity == "error"
    assert found["vba-stomped"].value == MODULE_NAME
    assert f"Модуль VBA {MODULE_NAME}" in found["vba-stomped"].message
    assert "mymodule" in found["vba-stomped"].message


def test_foreign_code_with_its_own_source_is_changed_not_stomped(tmp_path: Path,
                                                                 excel_saved: bytes):
    issued = vba_project()
    foreign = with_source(with_pcode(issued, MODULE_NAME, excel_saved, "Module1"), MODULE_NAME,
                          read_vba_modules(excel_saved)["Module1"].replace(
                              '"Module1"', f'"{MODULE_NAME}"'))
    found = codes(returned_with(tmp_path, foreign))
    assert "vba-changed" in found and "vba-stomped" not in found


def test_a_rewritten_project_without_pcode_is_not_stomped(tmp_path: Path):
    # the same modules written again (another code page): other bytes, same sources
    rewritten = build_vba_project(vba_modules(), sheet_count=len(SHEETS), code_page=1252)
    assert rewritten != vba_project()
    found = codes(returned_with(tmp_path, rewritten))
    assert "vba-stomped" not in found and "vba-changed" not in found


@pytest.mark.libreoffice
def test_a_libreoffice_saved_project_has_no_pcode_and_is_not_stomped(tmp_path: Path):
    require_tool(libreoffice_available(), "LibreOffice headless (libreoffice-calc-nogui, python3-uno)")
    template, _ = write(tmp_path, "template.xlsm")
    saved = tmp_path / "saved.xlsm"
    with LibreOffice() as office:
        office.process(template, save_as=saved)
    with zipfile.ZipFile(saved) as package:
        project = package.read("xl/vbaProject.bin")
    assert project != vba_project()  # LibreOffice writes the project again
    assert {m.offset for m in modules_of(project).values()} == {0}
    assert stomped_modules(project) == ()
    assert "vba-stomped" not in codes(saved)
