"""Add a worksheet to a workbook package: its part, content type, relationship, entry in the
workbook and the cell formats it uses — nothing else changes (the other parts are copied
byte for byte, so the validator sees the template's sheets as they were)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

from lxml import etree

from cos_xl.xlsxpatch import PatchError, replace_members
from cos_xl.rollup.sheet import MAIN_NS, Style

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
WORKSHEET_TYPE = REL_NS + "/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False)


def _m(tag: str) -> str:
    return f"{{{MAIN_NS}}}{tag}"


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, _PARSER)


def _dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _workbook_part(archive: zipfile.ZipFile) -> str:
    root = _parse(archive.read("_rels/.rels"))
    for rel in root:
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    raise PatchError("_rels/.rels: no workbook part")


def _child(parent: etree._Element, tag: str, before: tuple[str, ...] = ()) -> etree._Element:
    """The child ``tag`` of ``parent``, created (before the first of ``before``) if absent."""
    found = parent.find(_m(tag))
    if found is not None:
        return found
    element = etree.Element(_m(tag))
    for name in before:
        anchor = parent.find(_m(name))
        if anchor is not None:
            anchor.addprevious(element)
            return element
    parent.append(element)
    return element


def _append(parent: etree._Element, element: etree._Element) -> int:
    """Append and keep ``count`` right; the new element's index."""
    index = len(parent.findall(element.tag))
    parent.append(element)
    parent.set("count", str(index + 1))
    return index


def add_styles(styles_xml: bytes, styles: dict[str, Style]) -> tuple[bytes, dict[str, int]]:
    """The styles part with one cellXfs entry per style added; name -> cellXfs index."""
    root = _parse(styles_xml)
    order = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
             "dxfs", "tableStyles", "colors", "extLst")
    fonts = _child(root, "fonts", order[2:])
    fills = _child(root, "fills", order[3:])
    borders = _child(root, "borders", order[4:])
    xfs = _child(root, "cellXfs", order[6:])
    thin = None
    out: dict[str, int] = {}
    for name, style in styles.items():
        font = etree.Element(_m("font"))
        if style.bold:
            etree.SubElement(font, _m("b"))
        etree.SubElement(font, _m("sz"), val=f"{style.size or 10:g}")
        etree.SubElement(font, _m("name"), val="Arial")
        etree.SubElement(font, _m("family"), val="2")
        font_id = _append(fonts, font)
        fill_id = 0
        if style.fill:
            fill = etree.Element(_m("fill"))
            pattern = etree.SubElement(fill, _m("patternFill"), patternType="solid")
            etree.SubElement(pattern, _m("fgColor"), rgb=style.fill)
            etree.SubElement(pattern, _m("bgColor"), indexed="64")
            fill_id = _append(fills, fill)
        border_id = 0
        if style.border:
            if thin is None:
                border = etree.Element(_m("border"))
                for side in ("left", "right", "top", "bottom"):
                    edge = etree.SubElement(border, _m(side), style="thin")
                    etree.SubElement(edge, _m("color"), indexed="64")
                etree.SubElement(border, _m("diagonal"))
                thin = _append(borders, border)
            border_id = thin
        xf = etree.Element(_m("xf"), numFmtId=str(style.num_fmt), fontId=str(font_id),
                           fillId=str(fill_id), borderId=str(border_id), xfId="0",
                           applyFont="1")
        if style.num_fmt:
            xf.set("applyNumberFormat", "1")
        if fill_id:
            xf.set("applyFill", "1")
        if border_id:
            xf.set("applyBorder", "1")
        if style.wrap or style.horizontal or style.vertical:
            xf.set("applyAlignment", "1")
            align = etree.SubElement(xf, _m("alignment"))
            if style.horizontal:
                align.set("horizontal", style.horizontal)
            if style.vertical:
                align.set("vertical", style.vertical)
            if style.wrap:
                align.set("wrapText", "1")
        out[name] = _append(xfs, xf)
    return _dump(root), out


def add_sheet(data: bytes, name: str, styles: dict[str, Style], make_sheet,
              print_titles: str | None = None) -> bytes:
    """``data`` with a last sheet ``name`` whose XML is ``make_sheet(style indexes)``;
    ``print_titles`` (``'Sheet'!$A:$C,'Sheet'!$7:$7``) repeat on every printed page."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise PatchError(f"not a zip package: {exc}") from exc
    with archive:
        members = set(archive.namelist())
        workbook_part = _workbook_part(archive)
        workbook = _parse(archive.read(workbook_part))
        rels_part = _rels_name(workbook_part)
        rels = _parse(archive.read(rels_part))
        types = _parse(archive.read("[Content_Types].xml"))
        styles_part = next((posixpath.normpath(posixpath.join(
            posixpath.dirname(workbook_part), rel.get("Target", "")))
            for rel in rels if rel.get("Type", "").endswith("/styles")), None)
        if styles_part is None:
            raise PatchError("the workbook has no styles part")
        styles_xml = archive.read(styles_part)
    sheets = workbook.find(_m("sheets"))
    if sheets is None:
        raise PatchError("the workbook part lists no sheets")
    if any(sheet.get("name") == name for sheet in sheets):
        raise PatchError(f"the workbook already has a sheet {name!r}")
    new_styles, indexes = add_styles(styles_xml, styles)
    number = 1
    while f"xl/worksheets/sheet{number}.xml" in members:
        number += 1
    part = f"xl/worksheets/sheet{number}.xml"
    ids = {rel.get("Id") for rel in rels}
    rid = next(f"rId{n}" for n in range(len(ids) + 1, len(ids) + 1000) if f"rId{n}" not in ids)
    target = posixpath.relpath(part, posixpath.dirname(workbook_part) or ".")
    etree.SubElement(rels, f"{{{PKG_REL_NS}}}Relationship", Id=rid, Type=WORKSHEET_TYPE,
                     Target=target)
    sheet_id = max((int(s.get("sheetId", "0")) for s in sheets if
                    re.fullmatch(r"[0-9]+", s.get("sheetId", "0"))), default=0) + 1
    position = len(sheets)
    entry = etree.SubElement(sheets, _m("sheet"), name=name, sheetId=str(sheet_id))
    entry.set(f"{{{REL_NS}}}id", rid)
    if print_titles:
        names = workbook.find(_m("definedNames"))
        if names is None:
            names = etree.Element(_m("definedNames"))
            sheets.addnext(names)
        title = etree.SubElement(names, _m("definedName"), name="_xlnm.Print_Titles",
                                 localSheetId=str(position))
        title.text = print_titles
    etree.SubElement(types, f"{{{CT_NS}}}Override", PartName="/" + part,
                     ContentType=WORKSHEET_CT)
    return replace_members(data, {
        workbook_part: _dump(workbook), rels_part: _dump(rels),
        "[Content_Types].xml": _dump(types), styles_part: new_styles,
    }, {part: make_sheet(indexes)})
