"""The fast OOXML reader (cos_xl.validate.ooxml) against openpyxl on real generated workbooks,
on the same workbook saved by LibreOffice, and on small hand-written packages that exercise
shared formulas, rich-text shared strings, strict namespaces and broken packages."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import statistics
import time
import zipfile

import openpyxl
import pytest
from conftest import require_tool
from helpers import write
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.formula import ArrayFormula

from cos_xl.office import LibreOffice, libreoffice_available
from cos_xl.spec.models import excel_defined_name
from cos_xl.validate import ooxml
from cos_xl.validate.ooxml import (
    CellXml,
    PackageXml,
    normalise_protection,
    normalise_validation,
    read_package,
    xml_bool,
)

LO_VALUES = {"students_go": 100, "resp_name": "Иванова"}


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return write(tmp_path_factory.mktemp("ooxml"), "cos_2020Q3_77.xlsm", macros=True)


@pytest.fixture(scope="module")
def lo_saved(generated, tmp_path_factory):
    require_tool(libreoffice_available(), "LibreOffice headless (libreoffice-calc-nogui, python3-uno)")
    path, _manifest = generated
    out = tmp_path_factory.mktemp("ooxml_lo") / "lo.xlsm"
    with LibreOffice() as lo:
        lo.process(path, set_values=LO_VALUES, save_as=out)
    return out


# -- comparison with openpyxl ---------------------------------------------------------------------


def _absolute(address: str) -> str:
    """``Данные!D7`` -> ``Данные!$D$7``, ranges too."""
    sheet, cells = address.rsplit("!", 1)
    return sheet + "!" + ":".join(re.sub(r"([A-Z]+)([0-9]+)", r"$\1$\2", c) for c in cells.split(":"))


def _same_value(ours: object, theirs: object) -> bool:
    if isinstance(theirs, (dt.datetime, dt.date, dt.time)):
        theirs = to_excel(theirs)
    if isinstance(theirs, bool) or isinstance(ours, bool):
        return ours is theirs
    if isinstance(theirs, (int, float)) and isinstance(ours, float):
        return ours == float(theirs)
    return ours == theirs


def assert_matches_openpyxl(path, pkg: PackageXml) -> None:
    wb = openpyxl.load_workbook(path)
    wv = openpyxl.load_workbook(path, data_only=True)
    assert [s.name for s in pkg.sheets] == wb.sheetnames

    expected_names = {}
    for name, dn in wb.defined_names.items():
        expected_names[name] = dn.attr_text.replace("'", "")
    for ws in wb.worksheets:
        for name, dn in ws.defined_names.items():
            expected_names[f"{ws.title}!{name}"] = dn.attr_text.replace("'", "")
    assert pkg.defined_names == expected_names

    if wb.security is None:
        assert pkg.workbook_protection is None
    else:
        assert pkg.workbook_protection is not None
        assert xml_bool(pkg.workbook_protection.get("lockStructure")) == bool(
            wb.security.lockStructure)
        assert (pkg.workbook_protection.get("workbookPassword") or "").upper() == (
            wb.security.workbookPassword or "").upper()

    for sheet in pkg.sheets:
        ws, wsv = wb[sheet.name], wv[sheet.name]
        assert sheet.state == ws.sheet_state, sheet.name
        assert sheet.kind == "worksheet"

        # protection: every attribute, booleans written as 1/0 or true/false
        assert sheet.protected == bool(ws.protection.sheet), sheet.name
        for key, raw in sheet.protection.items():
            if key == "password":
                assert raw.upper() == (ws.protection.password or "").upper()
            else:
                assert xml_bool(raw) == bool(getattr(ws.protection, key)), (sheet.name, key)

        assert sorted(sheet.merged) == sorted(str(r) for r in ws.merged_cells.ranges)

        theirs = ws.data_validations.dataValidation
        assert len(sheet.data_validations) == len(theirs), sheet.name
        for ours, dv in zip(sheet.data_validations, theirs):
            assert ours["sqref"] == str(dv.sqref)
            assert ours.get("type") == dv.type
            assert ours.get("operator") == dv.operator
            assert ours["formula1"] == dv.formula1
            assert ours["formula2"] == dv.formula2
            assert xml_bool(ours.get("allowBlank")) == bool(dv.allow_blank)
            assert xml_bool(ours.get("showErrorMessage")) == bool(dv.showErrorMessage)
            assert ours.get("prompt") == dv.prompt and ours.get("error") == dv.error

        seen = set()
        for (row, col), cell in ws._cells.items():
            coord = cell.coordinate
            ours = sheet.cells.get(coord)
            value = cell.value
            locked = bool(cell.protection.locked)
            if isinstance(value, ArrayFormula):
                formula = value.text[1:]
            elif cell.data_type == "f":
                formula = value[1:]
            else:
                formula = None
            if formula is None and value is None and locked:
                assert ours is None, (sheet.name, coord, ours)  # a styled blank is skipped
                continue
            assert ours is not None, (sheet.name, coord)
            seen.add(coord)
            assert ours.locked == locked, (sheet.name, coord)
            assert ours.formula == formula, (sheet.name, coord)
            if formula is None:
                assert _same_value(ours.value, value), (sheet.name, coord, ours, value)
            else:
                cached = wsv._cells[(row, col)].value
                if ours.kind == "str" and cached is None:
                    assert ours.value in ("", None)  # openpyxl reads <v></v> as None
                else:
                    assert _same_value(ours.value, cached), (sheet.name, coord, ours, cached)
        assert set(sheet.cells) == seen, sheet.name

    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        if "xl/vbaProject.bin" in names:
            assert pkg.vba_project == z.read("xl/vbaProject.bin")
        else:
            assert pkg.vba_project is None
        assert set(pkg.content_types) <= {"/" + n for n in names} | {"/_rels/.rels"}


def assert_manifest_structure(pkg: PackageXml, manifest: dict) -> None:
    """Every name the manifest knows is a defined name with the same cell; inputs unlocked."""
    for ident, address in manifest["names"].items():
        assert pkg.defined_names[excel_defined_name(ident)] == _absolute(address), ident
    for ident, address in manifest["inputs"].items():
        sheet, ref = address.rsplit("!", 1)
        assert pkg.sheet(sheet).cells[ref].locked is False, ident
        assert pkg.sheet(sheet).locked(ref) is False
    data = pkg.sheet("Данные")
    assert data.cells["B6"].locked is True and isinstance(data.cells["B6"].value, str)
    assert data.locked("Z999") is True  # no <c> at all: locked
    for code, address in manifest["indicators"].items():
        sheet, ref = address.rsplit("!", 1)
        cell = pkg.sheet(sheet).cells[ref]
        assert cell.locked is True and cell.formula, code
    assert all(s.protected for s in pkg.sheets)


# -- generated workbook (XlsxWriter) --------------------------------------------------------------


def test_generated_workbook_matches_openpyxl(generated):
    path, manifest = generated
    pkg = read_package(path)
    assert_matches_openpyxl(path, pkg)
    assert_manifest_structure(pkg, manifest)
    assert pkg.workbook_protection == {"workbookPassword": pkg.workbook_protection[
        "workbookPassword"], "lockStructure": "1"}
    assert pkg.sheet("_manifest").state == "veryHidden"
    assert pkg.content_types["/xl/workbook.xml"] == (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    assert pkg.sheets[0].part == "xl/worksheets/sheet1.xml"


def test_generated_workbook_fast_path_equals_tree_path(generated):
    path, _ = generated
    data = path.read_bytes()
    assert read_package(data) == read_package(data, fast=False) == read_package(path)


def _no_tree_path(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the fast path fell back to ElementTree")

    monkeypatch.setattr(ooxml, "_cells_tree", refuse)
    monkeypatch.setattr(ooxml, "_rich_text", refuse)


def test_generated_workbook_takes_the_fast_path(generated, monkeypatch):
    _no_tree_path(monkeypatch)
    read_package(generated[0])


def test_generated_workbook_is_read_fast(generated):
    path, _ = generated
    median = _median_ms(path.read_bytes())
    print(f"\nread_package, generated .xlsm: median of 20 = {median:.2f} ms")
    assert median < 60  # a loose bound for busy CI machines; the target is a few ms


def _median_ms(data: bytes, runs: int = 20) -> float:
    read_package(data)  # warm up (imports, regex caches)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        read_package(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


# -- the same workbook saved by LibreOffice -------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_saved_workbook_matches_openpyxl(lo_saved, generated):
    _, manifest = generated
    pkg = read_package(lo_saved)
    assert_matches_openpyxl(lo_saved, pkg)
    assert_manifest_structure(pkg, manifest)
    assert pkg.sheet("Данные").cells["D6"].value == 100.0
    assert pkg.sheet("Титул").cells["B14"].value == "Иванова"
    assert pkg.sheet("Титул").cells["B14"].locked is False
    data = lo_saved.read_bytes()
    assert read_package(data) == read_package(data, fast=False)


@pytest.mark.libreoffice
def test_parts_unpacked_by_the_safety_layer_read_the_same(lo_saved, generated):
    from cos_xl.validate.safety import inspect_file

    for path in (lo_saved, generated[0]):
        report = inspect_file(path)
        assert report.ok and report.parts is not None
        assert set(report.parts) == set(zipfile.ZipFile(path).namelist())
        assert read_package(path, parts=report.parts) == read_package(path)


def test_safety_keeps_no_parts_of_a_doubtful_package(tmp_path, generated):
    from cos_xl.validate.safety import inspect_file

    bad = tmp_path / "bad.xlsm"
    bad.write_bytes(generated[0].read_bytes() + b"junk after the archive")
    report = inspect_file(bad)
    assert report.findings and report.parts is None


@pytest.mark.libreoffice
def test_libreoffice_saved_workbook_takes_the_fast_path(lo_saved, monkeypatch):
    _no_tree_path(monkeypatch)
    read_package(lo_saved)


@pytest.mark.libreoffice
def test_libreoffice_keeps_the_locked_structure(lo_saved, generated):
    """What LibreOffice keeps (asserted) and what it changes (printed for the record)."""
    path, _ = generated
    before, after = read_package(path), read_package(lo_saved)
    assert [s.name for s in before.sheets] == [s.name for s in after.sheets]
    assert before.defined_names == after.defined_names
    changes = []
    for old, new in zip(before.sheets, after.sheets):
        old_f = {k: c.formula for k, c in old.cells.items() if c.formula is not None}
        new_f = {k: c.formula for k, c in new.cells.items() if c.formula is not None}
        assert old_f == new_f, old.name  # formulas are written back unchanged
        for ref in set(old.cells) | set(new.cells):
            assert old.locked(ref) == new.locked(ref), (old.name, ref)
        assert old.merged == new.merged
        # validations and protection: the same once the schema defaults are applied
        assert [normalise_validation(d) for d in old.data_validations] == [
            normalise_validation(d) for d in new.data_validations], old.name
        assert normalise_protection(old.protection) == normalise_protection(new.protection)
        assert new.protected
        if old.data_validations != new.data_validations:
            changes.append(f"{old.name}: validation attributes rewritten, e.g. "
                           f"{_dict_diff(old.data_validations[0], new.data_validations[0])}")
        if old.protection != new.protection:
            changes.append(f"{old.name}: sheetProtection {old.protection} -> {new.protection}")
        if old.state != new.state:
            changes.append(f"{old.name}: state {old.state} -> {new.state}")
        gone = sorted(set(old.cells) - set(new.cells))
        if gone:
            changes.append(f"{old.name}: {len(gone)} cells gone ({gone[:3]}...), values "
                           f"{sorted({repr(old.cells[k].value) for k in gone})}")
        kinds = sorted({(old.cells[k].kind, new.cells[k].kind) for k in old_f
                        if old.cells[k].kind != new.cells[k].kind})
        if kinds:
            changes.append(f"{old.name}: formula result types {kinds}")
    if before.workbook_protection != after.workbook_protection:
        changes.append(f"workbookProtection {before.workbook_protection} -> "
                       f"{after.workbook_protection}")
    if before.vba_project != after.vba_project:
        changes.append(f"vbaProject.bin rewritten: {len(before.vba_project)} -> "
                       f"{len(after.vba_project or b'')} bytes")
    print("\nLibreOffice changed:\n  " + "\n  ".join(changes))


def _dict_diff(a: dict, b: dict) -> dict:
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


@pytest.mark.libreoffice
def test_libreoffice_saved_workbook_is_read_fast(lo_saved):
    median = _median_ms(lo_saved.read_bytes())
    print(f"\nread_package, LibreOffice-saved .xlsm: median of 20 = {median:.2f} ms")
    assert median < 60


# -- hand-written packages ------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

SHEET1 = DECL + f"""<worksheet xmlns="{MAIN}" xmlns:r="{REL}"
 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
 xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
 xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">
<dimension ref="A1:H12"/>
<sheetData>
<row r="1" customFormat="false" ht="15" hidden="false">
<c r="A1" s="0" t="s"><v>0</v></c><c r="B1" s="1"/><c r="C1" s="3" t="s"><v>1</v></c>
<c r="D1" t="s"><v>2</v></c><c r="E1" t="s"><v>3</v></c><c r="F1" t="s"><v>4</v></c>
<c r="G1" t="s"><v>5</v></c><c r="H1" t="s"><v>6</v></c><c r="I1" s="3"/>
</row>
<row r="2">
<c r="A2" t="n"><v>10</v></c><c r="B2" t="b"><v>1</v></c><c r="C2" t="e"><v>#DIV/0!</v></c>
<c r="D2" t="inlineStr"><is><r><t xml:space="preserve">in </t></r><r><t>line_x000D_</t></r></is></c>
<c r="E2" s="3" t="str"><f aca="false">"x"&amp;"y"</f><v>xy</v></c>
<c r="F2" s="2" t="n"><v>5</v></c><c r="G2" t="str"><f>""</f><v></v></c>
</row>
<row r="6"><c r="A6"><v>1</v></c><c r="B6"><v>2</v></c><c r="C6"><v>3</v></c>
<c r="E6"><f t="shared" ref="E6:E12" si="0" aca="false">C6*$D$1+SUM(A6:B6)+Other!B1</f><v>0</v></c>
<c r="G6"><f t="array" ref="G6:G7">A6:A7*2</f><v>2</v></c></row>
<row r="7"><c r="A7"><v>2</v></c><c r="E7"><f t="shared" si="0" aca="false"/><v>0</v></c>
<c r="G7"><v>4</v></c></row>
<row r="8"><c r="E8"><f t="shared" si="0"/><v>0</v></c></row>
<row r="12"><c r="E12"><f t="shared" si="0"></f><v>0</v></c>
<c r="F12"><f t="shared" ref="F12:G12" si="1">E12+1</f></c><c r="G12"><f t="shared" si="1"/></c></row>
</sheetData>
<sheetProtection sheet="true" password="abcd" objects="true" formatColumns="false"/>
<mergeCells count="1"><mergeCell ref="A20:C20"/></mergeCells>
<dataValidations count="1"><dataValidation type="list" allowBlank="1" showErrorMessage="1"
 sqref="B1"><formula1>"a,b"</formula1></dataValidation></dataValidations>
<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}"><x14:dataValidations count="1">
<x14:dataValidation type="list" allowBlank="1"><x14:formula1><xm:f>'Other'!$A$1:$A$3</xm:f>
</x14:formula1><xm:sqref>F2</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>
</worksheet>"""

# cells without r (counted by position) force the ElementTree path for this sheet
SHEET2 = DECL + f"""<worksheet xmlns="{MAIN}"><sheetData>
<row><c t="s"><v>0</v></c><c><v>2.5</v></c></row><row><c/><c s="1"/></row>
</sheetData></worksheet>"""

STRINGS = [
    "<si><t>Label</t></si>",
    '<si><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve">Bold </t></r><r><t>tail</t></r></si>',
    "<si><t>line1_x000D_&#10;line2</t></si>",
    '<si><t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh><phoneticPr fontId="1"/></si>',
    "<si><t>_x005F_x000D_</t></si>",
    "<si><t/></si>",
    "<si><t>a &amp; b &lt;c&gt; &quot;q&quot;</t></si>",
]
SST = DECL + f'<sst xmlns="{MAIN}" count="7" uniqueCount="7">' + "".join(STRINGS) + "</sst>"

STYLES = DECL + f"""<styleSheet xmlns="{MAIN}"><cellXfs count="4">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyProtection="1"><protection locked="0"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyProtection="false"><alignment/><protection locked="false" hidden="true"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"><protection locked="true"/></xf>
</cellXfs></styleSheet>"""

WORKBOOK = DECL + f"""<workbook xmlns="{MAIN}" xmlns:r="{REL}">
<workbookProtection lockStructure="1"/>
<sheets><sheet name="Data" sheetId="1" r:id="rId1"/>
<sheet name="Other" sheetId="2" state="hidden" r:id="rId2"/></sheets>
<definedNames>
<definedName name="total">'Other'!$A$1:$B$2</definedName>
<definedName name="local" localSheetId="0">Data!$A$1</definedName>
<definedName name="_xlnm.Print_Area" localSheetId="1">'Other'!$A$1:$C$3</definedName>
<definedName name="txt">"it's"&amp;'O''Brien'!A1</definedName>
</definedNames></workbook>"""

WB_RELS = DECL + f"""<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/worksheet" Target="/xl/worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>
<Relationship Id="rId4" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId5" Type="{REL}/hyperlink" Target="file:///etc/passwd" TargetMode="External"/>
</Relationships>"""

ROOT_RELS = DECL + f"""<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"""

CONTENT_TYPES = DECL + f"""<Types xmlns="{CT}">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""

PARTS = {
    "[Content_Types].xml": CONTENT_TYPES,
    "_rels/.rels": ROOT_RELS,
    "xl/workbook.xml": WORKBOOK,
    "xl/_rels/workbook.xml.rels": WB_RELS,
    "xl/worksheets/sheet1.xml": SHEET1,
    "xl/worksheets/sheet2.xml": SHEET2,
    "xl/sharedStrings.xml": SST,
    "xl/styles.xml": STYLES,
}


def package(parts: dict[str, str | bytes | None] | None = None,
            base: dict[str, str | bytes] = PARTS) -> bytes:
    """A zip of ``base`` with ``parts`` replaced (None: left out)."""
    chosen = {**base, **(parts or {})}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in chosen.items():
            if text is not None:
                z.writestr(name, text.encode("utf-8") if isinstance(text, str) else text)
    return buf.getvalue()


def test_hand_written_package():
    pkg = read_package(package())
    data, other = pkg.sheets
    assert (data.name, data.state, other.name, other.state) == ("Data", "visible", "Other", "hidden")
    c = data.cells
    # shared strings: plain, rich runs, _xHHHH_ escapes, phonetic runs skipped, entities
    assert c["A1"] == CellXml("Label", None, True, "s")
    assert c["C1"].value == "Bold tail"
    assert c["D1"].value == "line1\r\nline2"
    assert c["E1"].value == "漢字"
    assert c["F1"].value == "_x000D_"
    assert c["G1"].value == ""
    assert c["H1"].value == 'a & b <c> "q"'
    # an unlocked blank is kept, a locked styled blank is not
    assert c["B1"] == CellXml(None, None, False, "n")
    assert "I1" not in c
    assert c["A2"].value == 10.0 and c["B2"].value is True
    assert c["C2"] == CellXml("#DIV/0!", None, True, "e")
    assert c["D2"] == CellXml("in line\r", None, True, "inlineStr")
    assert c["E2"] == CellXml("xy", '"x"&"y"', True, "str", "normal")
    assert c["F2"] == CellXml(5.0, None, False, "n")  # locked="false" with applyProtection="false"
    assert c["G2"] == CellXml("", '""', True, "str", "normal")
    # shared formulas, expanded and translated for every member
    assert c["E6"].formula == "C6*$D$1+SUM(A6:B6)+Other!B1"
    assert c["E7"].formula == "C7*$D$1+SUM(A7:B7)+Other!B2"
    assert c["E8"].formula == "C8*$D$1+SUM(A8:B8)+Other!B3"
    assert c["E12"].formula == "C12*$D$1+SUM(A12:B12)+Other!B7"
    assert {c[k].formula_type for k in ("E6", "E7", "E8", "E12")} == {"shared"}
    assert c["F12"].formula == "E12+1" and c["G12"].formula == "F12+1"
    assert c["F12"].value is None
    # an array formula shows in every cell of its range
    assert c["G6"] == CellXml(2.0, "A6:A7*2", True, "n", "array")
    assert c["G7"] == CellXml(4.0, "A6:A7*2", True, "n", "array")
    assert data.protected and data.protection == {
        "sheet": "true", "password": "abcd", "objects": "true", "formatColumns": "false"}
    assert other.protected is False and other.protection == {}
    assert data.merged == ["A20:C20"]
    assert data.data_validations == [
        {"type": "list", "allowBlank": "1", "showErrorMessage": "1", "sqref": "B1",
         "formula1": '"a,b"', "formula2": None},
        {"type": "list", "allowBlank": "1", "sqref": "F2", "formula1": "'Other'!$A$1:$A$3",
         "formula2": None},
    ]
    # cells numbered by position (no r attributes)
    assert other.cells == {"A1": CellXml("Label", None, True, "s"),
                           "B1": CellXml(2.5, None, True, "n"),
                           "B2": CellXml(None, None, False, "n")}
    assert pkg.defined_names == {
        "total": "Other!$A$1:$B$2",
        "Data!local": "Data!$A$1",
        "Other!_xlnm.Print_Area": "Other!$A$1:$C$3",
        "txt": "\"it's\"&O'Brien!A1",
    }
    assert pkg.workbook_protection == {"lockStructure": "1"}
    assert pkg.vba_project is None
    assert pkg.content_types["/xl/styles.xml"].endswith("styles+xml")
    assert read_package(package(), fast=False) == pkg


@pytest.mark.filterwarnings("ignore::UserWarning")  # no default style; x14 validation dropped
def test_hand_written_package_matches_openpyxl(tmp_path):
    """openpyxl expands shared formulas with the same Translator: the formulas agree."""
    path = tmp_path / "hand.xlsx"
    path.write_bytes(package())
    ws = openpyxl.load_workbook(path)["Data"]
    sheet = read_package(path).sheet("Data")
    for ref, cell in sheet.cells.items():
        value = ws[ref].value
        if isinstance(value, ArrayFormula):
            assert cell.formula == value.text[1:] or ref != value.ref.split(":")[0]
        elif isinstance(value, str) and value.startswith("="):
            assert cell.formula == value[1:], ref
        assert cell.locked == bool(ws[ref].protection.locked), ref


def test_normalisation_of_protection_and_validations():
    assert normalise_protection({"sheet": "true", "password": "da7f", "formatRows": "0"}) == {
        **normalise_protection({}), "sheet": True, "password": "DA7F", "formatRows": False}
    assert normalise_protection({})["formatCells"] is True  # the schema default
    excel = {"type": "whole", "operator": "greaterThanOrEqual", "allowBlank": "1", "sqref": "D6",
             "formula1": "0", "formula2": None}
    calc = {**excel, "allowBlank": "true", "formula2": "0", "showDropDown": "false",
            "errorStyle": "stop", "showErrorMessage": "false"}
    assert normalise_validation(excel) == normalise_validation(calc)
    listed = {"type": "list", "sqref": "D34", "formula1": "LIST", "formula2": None}
    assert normalise_validation(listed) == normalise_validation(
        {**listed, "operator": "between", "formula2": "0"})
    between = {"type": "whole", "sqref": "D7", "formula1": "0", "formula2": "X"}
    assert normalise_validation(between)["formula2"] == "X"
    assert normalise_validation(between) != normalise_validation({**between, "formula2": "Y"})


def _prefixed(xml: str) -> str:
    """The same part with the SpreadsheetML namespace bound to a prefix (x:)."""
    xml = xml.replace(f'xmlns="{MAIN}"', f'xmlns:x="{MAIN}"')
    return re.sub(r"<(/?)(?![?!]|x14:|xm:|x:)(\w+)", r"<\1x:\2", xml)


def _strict(xml: str) -> str:
    return (xml.replace(MAIN, "http://purl.oclc.org/ooxml/spreadsheetml/main")
            .replace(REL, "http://purl.oclc.org/ooxml/officeDocument/relationships"))


def test_namespace_prefixes_and_strict_packages_read_the_same():
    expected = read_package(package())
    prefixed = {name: _prefixed(PARTS[name]) for name in (
        "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
        "xl/sharedStrings.xml", "xl/styles.xml")}
    assert "<x:c r=" in prefixed["xl/worksheets/sheet1.xml"]
    assert read_package(package(prefixed)) == expected
    strict = {name: _strict(text) for name, text in PARTS.items()}
    assert read_package(package(strict)) == expected


def test_fast_path_falls_back_on_unusual_markup():
    """Comments, CDATA, other attribute orders: the tree path reads them the same."""
    expected = read_package(package())
    variants = [
        SHEET1.replace('<c r="A2" t="n">', '<!-- a comment --><c r="A2" t="n">'),
        SHEET1.replace('<c r="A2" t="n"><v>10</v>', '<c t="n" r="A2"><v>10</v>'),
        SHEET1.replace('<c r="A2" t="n"><v>10</v>', "<c r='A2' t='n'><v>1&#48;</v>"),
        SHEET1.replace('<f aca="false">"x"&amp;"y"</f>', '<f aca="false"><![CDATA["x"&"y"]]></f>'),
        SHEET1.replace('<c r="A6">', '<c\nr="A6">'),
    ]
    for text in variants:
        assert text != SHEET1
        pkg = read_package(package({"xl/worksheets/sheet1.xml": text}))
        assert pkg == expected


BROKEN = {
    "not a zip": (b"PK\x03\x04 garbage", "zip"),
    "no content types": ({"[Content_Types].xml": None}, "[Content_Types].xml"),
    "no package relationships": ({"_rels/.rels": None}, "_rels/.rels"),
    "no workbook": ({"xl/workbook.xml": None}, "xl/workbook.xml"),
    "sheet part missing": ({"xl/worksheets/sheet2.xml": None}, "xl/worksheets/sheet2.xml"),
    "relationship missing": (
        {"xl/_rels/workbook.xml.rels": WB_RELS.replace('Id="rId2"', 'Id="rId9"')},
        "xl/workbook.xml"),
    "broken xml": ({"xl/worksheets/sheet1.xml": SHEET1.replace("</sheetData>", "")},
                   "xl/worksheets/sheet1.xml"),
    "doctype": ({"xl/workbook.xml": WORKBOOK.replace(DECL, DECL + "<!DOCTYPE workbook>")},
                "DOCTYPE"),
    "string index": ({"xl/worksheets/sheet1.xml": SHEET1.replace("<v>6</v>", "<v>60</v>")},
                     "shared string"),
    "style index": ({"xl/worksheets/sheet1.xml": SHEET1.replace('s="3" t="s"', 's="30" t="s"')},
                    "style"),
    "shared formula without master": (
        {"xl/worksheets/sheet1.xml": SHEET1.replace('si="0" aca="false">C6', 'si="5" aca="false">C6')},
        "si=0"),
    "duplicate cell": ({"xl/worksheets/sheet1.xml": SHEET1.replace('r="B6"', 'r="A6"')}, "twice"),
    "bad number": ({"xl/worksheets/sheet1.xml": SHEET1.replace("<v>10</v>", "<v>ten</v>")},
                   "number"),
    "bad reference": ({"xl/worksheets/sheet1.xml": SHEET1.replace('r="A6"', 'r="6A"')},
                      "xl/worksheets/sheet1.xml"),
    "local name out of range": ({"xl/workbook.xml": WORKBOOK.replace('localSheetId="1"',
                                                                     'localSheetId="7"')},
                                "localSheetId"),
    "target leaves the package": (
        {"xl/_rels/workbook.xml.rels": WB_RELS.replace('Target="styles.xml"',
                                                       'Target="../../styles.xml"')},
        "leaves the package"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "tree"])
def test_broken_package_raises_value_error(case, fast):
    parts, message = BROKEN[case]
    data = parts if isinstance(parts, bytes) else package(parts)
    with pytest.raises(ValueError, match=re.escape(message)):
        read_package(data, fast=fast)


MUTATIONS = [b"<", b">", b'"', b"'", b"&", b"0", b"A", b"/", b" ", b"=", b"\n", b"<!-- x -->",
             b'<c r="Z1"/>', b"<x/>", b' a="1"', b"&#0;", b"&#65;", b'<row r="2">', b"</row>",
             b"<v>1</v>", b"<f>1</f>", b"\r\n"]


def test_mutated_packages_raise_only_value_error(generated):
    """Cut, garble or insert markup in the sheets and shared strings of the generated workbook:
    ValueError or a result, nothing else, and the fast path agrees with the tree path."""
    path, _ = generated
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    targets = sorted(n for n in parts if n.startswith("xl/worksheets/") or "sharedStrings" in n)
    rng = random.Random(20200930)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(100):
        name = rng.choice(targets)
        blob = bytearray(parts[name])
        start, end = blob.find(b"<sheetData"), blob.find(b"</sheetData>")
        at = rng.randrange(start, end) if start >= 0 else rng.randrange(len(blob))
        kind = rng.choice(["delete", "replace", "insert"])
        if kind == "delete":
            del blob[at : at + rng.randint(1, 12)]
        elif kind == "replace":
            blob[at : at + 1] = rng.choice(MUTATIONS[:11])
        else:
            blob[at:at] = rng.choice(MUTATIONS)
        data = package({name: bytes(blob)}, base=parts)
        results = []
        for fast in (True, False):
            try:
                results.append(read_package(data, fast=fast))
            except ValueError as exc:
                results.append(type(exc))
        assert results[0] == results[1], (name, kind, at, bytes(blob[at - 40 : at + 40]))
        outcomes["error" if results[0] is ValueError else "ok"] += 1
    assert outcomes["error"] > 10 and outcomes["ok"] > 10, outcomes


# -- the layout cache: the same markup with other <v> texts ----------------------------------------

V_TEXTS = ["7", "-0.5", "1e3", "", " ", "ten", "&#48;", "1&#50;", "&amp;", "&bad;", "&#0;", "60",
           "6", "0", "true", "#N/A", "x_x000D_y", "a\r\nb", "\u00a0", "nan"]


def _read_or_error(data: bytes, fast: bool) -> object:
    try:
        return read_package(data, fast=fast)
    except ValueError as exc:
        return ("ValueError", str(exc).split(":")[0])


def _compare_paths(outcomes: dict[str, int], part: str, content: str | bytes,
                   note: object) -> None:
    """The package with ``part`` replaced reads the same by the fast and the tree path (or
    fails the same way); counts the outcome."""
    data = package({part: content})
    fast, tree = _read_or_error(data, True), _read_or_error(data, False)
    assert fast == tree, note
    outcomes["error" if isinstance(fast, tuple) else "ok"] += 1


def _forget_layouts() -> None:
    ooxml._LAYOUTS.clear()
    ooxml._SEEN.clear()


def _layout_sheet() -> str:
    """SHEET1 without what makes the fast path step aside (an inline string) or a layout
    not be kept (an array formula)."""
    array = '<f t="array" ref="G6:G7">A6:A7*2</f>'
    inline = ('<c r="D2" t="inlineStr"><is><r><t xml:space="preserve">in </t></r><r><t>line_x000D_'
              "</t></r></is></c>")
    assert array in SHEET1 and inline in SHEET1
    return SHEET1.replace(array, "<f>A6*2</f>").replace(inline, "")


def test_known_layout_with_other_values_reads_as_the_tree_path():
    """Once a sheet's layout is remembered, any <v> text under it (a number, a blank, a
    whitespace, an entity, a bad number, a string index out of range) reads exactly as the
    ElementTree path reads it, or fails the same way."""
    sheet1 = _layout_sheet()
    _forget_layouts()
    read_package(package({"xl/worksheets/sheet1.xml": sheet1}))
    assert not any(key[0] == "xl/worksheets/sheet1.xml" for key in ooxml._LAYOUTS)
    read_package(package({"xl/worksheets/sheet1.xml": sheet1}))  # kept from the second on
    assert any(key[0] == "xl/worksheets/sheet1.xml" for key in ooxml._LAYOUTS)
    pieces = re.split(r"<v>([^<]*)</v>", sheet1)
    slots = len(pieces) // 2
    rng = random.Random(1)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(150):
        texts = list(pieces[1::2])
        for i in rng.sample(range(slots), rng.randint(1, 3)):
            texts[i] = rng.choice(V_TEXTS)
        sheet = pieces[0] + "".join(f"<v>{t}</v>{rest}" for t, rest in zip(texts, pieces[2::2]))
        _compare_paths(outcomes, "xl/worksheets/sheet1.xml", sheet, texts)
    assert outcomes["error"] > 10 and outcomes["ok"] > 10, outcomes


def test_known_layout_follows_the_shared_strings():
    """The same sheet markup, other shared strings: the cells show the new strings."""
    sheet1 = _layout_sheet()
    for _ in range(2):
        read_package(package({"xl/worksheets/sheet1.xml": sheet1}))
    assert any(key[0] == "xl/worksheets/sheet1.xml" for key in ooxml._LAYOUTS)
    changed = SST.replace("<t>Label</t>", "<t>Метка</t>")
    data = package({"xl/sharedStrings.xml": changed, "xl/worksheets/sheet1.xml": sheet1})
    pkg = read_package(data)
    assert pkg.sheet("Data").cells["A1"].value == "Метка"
    assert pkg == read_package(data, fast=False)


def test_known_layout_follows_the_styles():
    """Locked flags come from the styles part: other styles, another layout."""
    read_package(package())
    unlocked = STYLES.replace('<protection locked="true"/>', '<protection locked="false"/>')
    pkg = read_package(package({"xl/styles.xml": unlocked}))
    assert pkg.sheet("Data").cells["C1"].locked is False
    assert pkg == read_package(package({"xl/styles.xml": unlocked}), fast=False)


def test_known_layouts_are_bounded():
    for n in range(ooxml._LAYOUTS_KEPT + 10):  # another formula, another layout
        sheet = _layout_sheet().replace('<c r="I1" s="3"/>', f'<c r="I1" s="3"/><c r="J1"><f>{n}+1</f>'
                               f"<v>{n + 1}</v></c>")
        for _ in range(2):  # kept from the second sheet with it
            pkg = read_package(package({"xl/worksheets/sheet1.xml": sheet}))
        assert pkg.sheet("Data").cells["J1"] == CellXml(n + 1.0, f"{n}+1", True, "n", "normal")
    assert len(ooxml._LAYOUTS) == ooxml._LAYOUTS_KEPT
    assert len(ooxml._SEEN) <= 4 * ooxml._LAYOUTS_KEPT



def test_known_string_items_are_bounded(monkeypatch):
    monkeypatch.setattr(ooxml, "_STRING_ITEMS_MAX_BYTES", 2000)
    long = "x" * (ooxml._STRING_ITEM_MAX + 1)
    for n in range(10):
        items = "".join(f"<si><t>{n}-{i}</t></si>" for i in range(6)) + f"<si><t>{long}</t></si>"
        sst = DECL + f'<sst xmlns="{MAIN}">' + items + "</sst>"
        pkg = read_package(package({"xl/sharedStrings.xml": sst}))
        assert pkg.sheet("Data").cells["A1"].value == f"{n}-0"
        assert pkg.sheet("Data").cells["H1"].value == long
        assert sum(2 * len(piece) + 100 for _ns, piece in ooxml._STRING_ITEMS) <= 2000 + 300
        assert not any(long.encode() in piece for _ns, piece in ooxml._STRING_ITEMS)


def test_known_layout_with_one_string_cell_follows_its_string():
    sheet = DECL + f"""<worksheet xmlns="{MAIN}"><sheetData><row r="1">
<c r="A1" t="s"><v>0</v></c><c r="B1"><v>1</v></c></row></sheetData></worksheet>"""
    for first in ("Label", "Другая метка", "Label", "Ещё одна"):
        if first == "Ещё одна":  # a layout made with the index written as a reference
            sheet = sheet.replace('<c r="A1" t="s"><v>0</v>', '<c r="A1" t="s"><v>&#48;</v>')
            _forget_layouts()
            for _ in range(2):
                read_package(package({"xl/worksheets/sheet2.xml": sheet}))
        sst = SST.replace("<t>Label</t>", f"<t>{first}</t>")
        data = package({"xl/worksheets/sheet2.xml": sheet, "xl/sharedStrings.xml": sst})
        pkg = read_package(data)
        assert pkg.sheet("Other").cells["A1"].value == first
        assert pkg == read_package(data, fast=False)
    short = DECL + f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"></sst>'
    with pytest.raises(ValueError, match="shared string"):
        read_package(package({"xl/worksheets/sheet2.xml": sheet, "xl/sharedStrings.xml": short,
                              "xl/worksheets/sheet1.xml": sheet.replace('t="s"', "")}))


T_TEXTS = ["Метка", "", " a ", "a &amp; b", "&#1052;", "&bogus;", "x_x000D_y", "a\r\nb", "&lt;",
           "0", "\u00a0"]


def test_known_string_items_with_other_texts_read_as_the_tree_path():
    """Shared strings among remembered items: any new text reads as ElementTree reads it (or
    fails the same way), also bytes that are not UTF-8."""
    plain = [f'<si><t xml:space="preserve">s{i}</t></si>' for i in range(7)]
    plain[3] = "<si><t>three</t></si>"
    plain[5] = "<si><t/></si>"
    sst = DECL + f'<sst xmlns="{MAIN}" count="7" uniqueCount="7">' + "".join(plain) + "</sst>"
    read_package(package({"xl/sharedStrings.xml": sst}))
    assert any(key[1].endswith(b"<t>three</t>") for key in ooxml._STRING_ITEMS)
    pieces = re.split(r"(<t(?: xml:space=\"preserve\")?>)([^<]*)(</t>)", sst)
    rng = random.Random(2)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(80):
        texts = list(pieces[2::4])
        for i in rng.sample(range(len(texts)), rng.randint(1, 2)):
            texts[i] = rng.choice(T_TEXTS)
        rebuilt = list(pieces)
        rebuilt[2::4] = texts
        data = "".join(rebuilt).encode("utf-8")
        if rng.random() < 0.1:
            data = data.replace(b"s1<", b"s1\xff<")  # not UTF-8
        _compare_paths(outcomes, "xl/sharedStrings.xml", data, texts)
    assert outcomes["error"] > 3 and outcomes["ok"] > 30, outcomes


def test_v_texts_outside_sheet_data_are_not_a_layout():
    plain = DECL + f"""<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><v>2.5</v></c>
</row></sheetData></worksheet>"""
    odd = plain.replace("</sheetData>", '</sheetData><extLst><ext uri="x"><v>1</v></ext></extLst>')
    for sheet, kept in ((odd, False), (plain, True)):
        _forget_layouts()
        data = package({"xl/worksheets/sheet2.xml": sheet})
        assert read_package(data) == read_package(data, fast=False)
        assert read_package(data).sheet("Other").cells["A1"].value == 2.5
        assert any(key[0] == "xl/worksheets/sheet2.xml" for key in ooxml._LAYOUTS) is kept


def test_known_string_items_with_damage_after_them_read_as_the_tree_path():
    items = "".join(f"<si><t>s{i}</t></si>" for i in range(7))
    sst = DECL + f'<sst xmlns="{MAIN}">' + items + "</sst>"
    read_package(package({"xl/sharedStrings.xml": sst}))  # every item known now
    for tail in ("<si><t>x</t>", "<si>", "<extLst/>", "junk", "<!-- c -->", "  \n"):
        data = package({"xl/sharedStrings.xml": sst.replace("</sst>", tail + "</sst>")})
        assert _read_or_error(data, True) == _read_or_error(data, False), tail


def _rows_sheet(rows: list[str]) -> str:
    return (DECL + f'<worksheet xmlns="{MAIN}"><dimension ref="A1:D40"/><sheetData>'
            + "".join(rows) + '</sheetData><sheetProtection sheet="1"/></worksheet>')


def _row(n: int, cells: list[str]) -> str:
    return f'<row r="{n}" spans="1:4">' + "".join(cells) + "</row>"


CELL_VARIANTS = [
    '<c r="{ref}" s="1"/>', '<c r="{ref}" s="1" t="n"><v>5</v></c>', '<c r="{ref}" s="3"/>',
    '<c r="{ref}" s="1" t="s"><v>2</v></c>', '<c r="{ref}" t="str"><f>"a"</f><v>a</v></c>',
    '<c r="{ref}"><f>A1+1</f><v>2</v></c>', '<c r="{ref}" s="3" t="s"><v>60</v></c>',
    '<c r="{ref}" t="b"><v>1</v></c>', '<c r="{ref}" s="1" t="n"><v>x</v></c>', "",
]


def test_sheet_with_a_new_layout_reads_by_chunks_as_the_tree_path():
    """A sheet whose rows changed markup here and there (a region typed into optional cells, a
    cached result changed type) is read by chunks of rows from the layouts seen before: the
    same cells as the tree path reads, or the same failure (also rows repeated or out of
    order)."""
    rng = random.Random(3)
    base = [[f'<c r="{col}{n}" s="3" t="s"><v>{n % 7}</v></c>' if col == "A" else
             f'<c r="{col}{n}" s="1"/>' for col in "ABCD"] for n in range(1, 41)]
    sheet = _rows_sheet([_row(n, cells) for n, cells in enumerate(base, 1)])
    _forget_layouts()
    ooxml._CHUNKS.clear()
    ooxml._FRAMES.clear()
    read_package(package({"xl/worksheets/sheet2.xml": sheet}))  # the frame, read in full
    assert any(key[0] == "xl/worksheets/sheet2.xml" for key in ooxml._FRAMES)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(120):
        rows = [list(cells) for cells in base]
        for _change in range(rng.randint(1, 4)):
            n = rng.randrange(40)
            col = rng.randrange(1, 4)
            rows[n][col] = rng.choice(CELL_VARIANTS).format(ref=f"{'ABCD'[col]}{n + 1}")
        markup = [_row(n, cells) for n, cells in enumerate(rows, 1)]
        damage = rng.random()
        if damage < 0.1:  # a row again, further down (in the same chunk or another)
            at = rng.randrange(40)
            markup.insert(rng.randrange(at + 1, 41), markup[at])
        elif damage < 0.2:  # two rows swapped
            a, b = sorted(rng.sample(range(40), 2))
            markup[a], markup[b] = markup[b], markup[a]
        elif damage < 0.25:  # a row again, first of a chunk of rows
            at = rng.randrange(8, 40, ooxml._CHUNK_ROWS)
            markup.insert(at, markup[rng.randrange(at)])
        _compare_paths(outcomes, "xl/worksheets/sheet2.xml", _rows_sheet(markup), damage)
    for junk in ("junk", "<x>", "<x/>", "<row/>"):  # before the first row
        markup = [_row(n, cells) for n, cells in enumerate(base, 1)]
        _compare_paths(outcomes, "xl/worksheets/sheet2.xml", _rows_sheet([junk] + markup), junk)
    assert outcomes["error"] > 10 and outcomes["ok"] > 30, outcomes
    assert len(ooxml._CHUNKS) > 5  # the chunks were read and kept


def test_known_chunks_are_bounded(monkeypatch):
    monkeypatch.setattr(ooxml, "_CHUNKS_KEPT", 6)
    rows = [_row(n, [f'<c r="A{n}"><f>{n}+1</f><v>1</v></c>']) for n in range(1, 41)]
    read_package(package({"xl/worksheets/sheet2.xml": _rows_sheet(rows)}))
    for n in range(1, 41):
        rows[n - 1] = _row(n, [f'<c r="A{n}"><f>{n}+2</f><v>1</v></c>'])
        read_package(package({"xl/worksheets/sheet2.xml": _rows_sheet(rows)}))
        assert len(ooxml._CHUNKS) <= 6
