"""The OOXML reader (cos_xl.validate.ooxml) against openpyxl on real generated workbooks,
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
from cos_xl.validate import memo
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
    memo.clear()
    assert read_package(data) == read_package(data) == pkg  # computed, then looked up


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
    assert read_package(package()) == pkg


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


def test_unusual_markup_reads_the_same():
    """Comments, CDATA, other attribute orders and quotes, character references."""
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
def test_broken_package_raises_value_error(case):
    parts, message = BROKEN[case]
    data = parts if isinstance(parts, bytes) else package(parts)
    for _ in range(2):  # computed, then (for what a part alone decides) looked up
        with pytest.raises(ValueError, match=re.escape(message)):
            read_package(data)


MUTATIONS = [b"<", b">", b'"', b"'", b"&", b"0", b"A", b"/", b" ", b"=", b"\n", b"<!-- x -->",
             b'<c r="Z1"/>', b"<x/>", b' a="1"', b"&#0;", b"&#65;", b'<row r="2">', b"</row>",
             b"<v>1</v>", b"<f>1</f>", b"\r\n"]


def test_mutated_packages_raise_only_value_error(generated):
    """Cut, garble or insert markup in the sheets and shared strings of the generated workbook:
    ValueError or a result, nothing else, the same whether the memo was empty or not."""
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
        for empty in (True, False):
            if empty:
                memo.clear()
            try:
                results.append(read_package(data))
            except ValueError as exc:
                results.append(type(exc))
        assert results[0] == results[1], (name, kind, at, bytes(blob[at - 40 : at + 40]))
        outcomes["error" if results[0] is ValueError else "ok"] += 1
    assert outcomes["error"] > 10 and outcomes["ok"] > 10, outcomes


# -- the memo: results by the bytes of a part, never anything else -------------------------------


def _read_all(packages: list[bytes]) -> list[object]:
    out = []
    for data in packages:
        try:
            out.append(read_package(data))
        except ValueError as exc:
            out.append(("ValueError", str(exc)))
    return out


def test_reads_do_not_depend_on_what_was_read_before(generated):
    """Packages that share parts (the same sheet with other shared strings or styles, the same
    strings under other sheets) read the same in any order, memo empty or full."""
    path, _ = generated
    with zipfile.ZipFile(path) as z:
        base = {name: z.read(name) for name in z.namelist()}
    strings = base["xl/sharedStrings.xml"].decode()
    variants = [package({}, base=base)]
    for old, new in (("Данные", "Даные"), ("Показатели", "Показатели!"), ("Титул", "Тит")):
        variants.append(package({"xl/sharedStrings.xml": strings.replace(old, new, 1)},
                                base=base))
    sheet = base["xl/worksheets/sheet3.xml"].decode()
    variants.append(package({"xl/worksheets/sheet3.xml": sheet.replace("<v>", "<v>1", 1)},
                            base=base))
    styles = base["xl/styles.xml"].decode()
    variants.append(package({"xl/styles.xml": styles.replace('locked="0"', 'locked="1"')},
                            base=base))
    memo.clear()
    fresh = []
    for data in variants:
        memo.clear()
        fresh.extend(_read_all([data]))
    rng = random.Random(7)
    for _ in range(5):
        order = list(range(len(variants)))
        rng.shuffle(order)
        got = dict(zip(order, _read_all([variants[i] for i in order])))
        assert [got[i] for i in range(len(variants))] == fresh
    assert len({repr(r) for r in fresh}) == len(variants)  # each variant reads differently


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(memo, "MAX_ENTRIES", 8)
    memo.clear()
    for n in range(30):  # each a sheet of other bytes
        read_package(package({"xl/worksheets/sheet2.xml": SHEET2.replace("</sheetData>", (
            f'<row r="40"><c r="A40"><v>{n}</v></c></row></sheetData>'))}))
    entries, size = memo.stats()
    assert entries <= 8 and size <= memo.MAX_BYTES
    memo.clear()
    assert memo.stats() == (0, 0)
