"""A minimal, fast, read-only reader of the locked structure of an .xlsx/.xlsm package.

openpyxl needs 40-100 ms for a generated workbook; this reads what the structural check
compares (sheets and their states, cells with values/formulas/locked flags, defined names,
protection, data validations, merged ranges, the VBA project) several times faster: the cells and
shared strings with a strict regular-expression scanner (see "fast path" below), everything else
with :mod:`xml.etree.ElementTree`. Output of both Excel/XlsxWriter and LibreOffice is
understood: namespaces are taken from each part's root element, so transitional and strict
packages read the same. Booleans are kept as written ("1" or "true") in the raw attribute dicts;
:func:`normalise_protection` and :func:`normalise_validation` compare them across writers.

The caller has already passed the file through the safety layer (no DTDs or entities, sane zip
sizes); as a second line of defence a part that declares a DOCTYPE or an ENTITY is refused here,
and nothing external (relationships with ``TargetMode="External"``) is ever followed.

A structurally broken package raises :class:`ValueError` naming the part and the problem.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import count, pairwise
from operator import itemgetter
from pathlib import Path
from xml.etree import ElementTree as ET

from xlsxwriter.utility import xl_cell_to_rowcol

__all__ = [
    "CellXml",
    "PackageXml",
    "SheetXml",
    "normalise_protection",
    "normalise_validation",
    "read_package",
    "xml_bool",
]


@dataclass(frozen=True)
class CellXml:
    #: str for shared/inline strings and t="str" formula results, float for numbers, bool for
    #: t="b", the error text ("#DIV/0!") for t="e", the raw text for t="d", None when no value
    value: object
    #: formula text without a leading "=", shared formulas translated for every cell of the
    #: group, array formulas given to every cell of their range; None if no formula
    formula: str | None
    #: effective protection from cellXfs[s] (<protection locked="0"/>); default True
    locked: bool
    #: the raw t attribute: "s", "str", "inlineStr", "b", "e", "n" (default), "d"
    kind: str
    #: the <f t="..."> of the formula: "normal", "shared", "array", "dataTable"; None if none
    formula_type: str | None = None


@dataclass(frozen=True)
class SheetXml:
    name: str
    state: str  # "visible", "hidden", "veryHidden"
    #: A1 -> cell; cells with a value or a formula, plus unlocked blanks (the inputs)
    cells: dict[str, CellXml]
    protected: bool  # <sheetProtection sheet="1"|"true"> present
    protection: dict[str, str]  # all attributes of <sheetProtection>, raw
    #: attributes of every <dataValidation> (also the x14 ones in extLst) plus "sqref",
    #: "formula1", "formula2" (None when absent)
    data_validations: list[dict]
    merged: list[str]  # "A5:F5"
    part: str = ""  # zip member name, "xl/worksheets/sheet1.xml"
    kind: str = "worksheet"  # root element: worksheet, chartsheet, macroSheet, dialogsheet

    def locked(self, ref: str) -> bool:
        """Effective protection of any cell: a cell that is not in ``cells`` (no <c>, or a
        styled blank) is unlocked only if it was kept as an unlocked blank."""
        cell = self.cells.get(ref.replace("$", "").upper())
        return True if cell is None else cell.locked


@dataclass(frozen=True)
class PackageXml:
    sheets: list[SheetXml]  # in workbook order
    #: name -> reference without quotes around sheet names (Данные!$D$7); local names "Sheet!name"
    defined_names: dict[str, str]
    workbook_protection: dict[str, str] | None  # None when absent, {} when present but empty
    vba_project: bytes | None
    content_types: dict[str, str]  # part name ("/xl/workbook.xml") -> content type (Overrides)

    def sheet(self, name: str) -> SheetXml:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)


def xml_bool(value: str | None, default: bool = False) -> bool:
    """An xsd:boolean attribute ("1"/"true"/"0"/"false") as a bool; ``default`` when absent."""
    if value is None:
        return default
    return value.strip().lower() in ("1", "true")


# Defaults of the schema (CT_SheetProtection): True = that action is protected (forbidden).
_PROTECTION_DEFAULTS = {
    "sheet": False, "objects": False, "scenarios": False, "formatCells": True,
    "formatColumns": True, "formatRows": True, "insertColumns": True, "insertRows": True,
    "insertHyperlinks": True, "deleteColumns": True, "deleteRows": True,
    "selectLockedCells": False, "sort": True, "autoFilter": True, "pivotTables": True,
    "selectUnlockedCells": False,
}
_VALIDATION_BOOLS = ("allowBlank", "showDropDown", "showInputMessage", "showErrorMessage")
_TWO_FORMULA_TYPES = ("whole", "decimal", "date", "time", "textLength")


def normalise_protection(attrs: dict[str, str]) -> dict[str, object]:
    """<sheetProtection> attributes as Excel means them, whoever wrote them: every flag of the
    schema as a bool (absent -> its default; "1"/"true" -> True), the legacy ``password`` hash
    upper case (LibreOffice writes it lower case), other attributes (hash algorithm, salt...)
    as they are."""
    out: dict[str, object] = dict(_PROTECTION_DEFAULTS)
    for key, value in attrs.items():
        if key in _PROTECTION_DEFAULTS:
            out[key] = xml_bool(value)
        elif key == "password":
            out[key] = value.strip().upper()
        else:
            out[key] = value
    return out


def normalise_validation(item: dict) -> dict:
    """A data validation as Excel applies it: schema defaults filled in (type "none", operator
    "between", errorStyle "stop", imeMode "noControl"), the flags as bools, ``operator`` and
    ``formula2`` only where the type uses them (LibreOffice writes operator="between" and
    formula2 "0" for every validation)."""
    out = dict(item)
    out.setdefault("type", "none")
    out.setdefault("errorStyle", "stop")
    out.setdefault("imeMode", "noControl")
    for key in _VALIDATION_BOOLS:
        out[key] = xml_bool(out.get(key))
    if out["type"] in _TWO_FORMULA_TYPES:
        out.setdefault("operator", "between")
        if out["operator"] not in ("between", "notBetween"):
            out["formula2"] = None
    else:
        out.pop("operator", None)
        out["formula2"] = None
    return out


# -- helpers ------------------------------------------------------------------------------------

_REL_OFFICE_DOCUMENT = "/officeDocument"
_CT_VBA = "application/vnd.ms-office.vbaProject"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")


def _unescape(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes (``_x000D_`` -> CR, ``_x005F_`` -> ``_``)."""
    if "_x" not in text:
        return text
    out = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any("\ud800" <= ch <= "\udfff" for ch in out):  # a UTF-16 pair written as two escapes
        out = out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return out


def _col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _split_cell(ref: str, part: str) -> tuple[int, int]:
    m = _CELL.match(ref)
    if not m:
        raise ValueError(f"{part}: {ref!r} is not an A1 cell reference")
    col, row = xl_cell_to_rowcol(ref)[1] + 1, int(m.group(2))
    if not (1 <= col <= 16384 and 1 <= row <= 1_048_576):
        raise ValueError(f"{part}: cell reference {ref!r} is outside the sheet")
    return col, row


def _range_cells(ref: str, part: str) -> list[str]:
    first, _, last = ref.partition(":")
    c1, r1 = _split_cell(first, part)
    c2, r2 = _split_cell(last or first, part)
    if (c2 - c1 + 1) * (r2 - r1 + 1) > 100_000 or c2 < c1 or r2 < r1:
        raise ValueError(f"{part}: formula range {ref!r} is reversed or too large")
    return [_col_letters(c) + str(r) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def _ns(root: ET.Element) -> str:
    tag = root.tag
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _rid(elem: ET.Element) -> str | None:
    """The r:id attribute, whatever the relationships namespace (transitional or strict)."""
    for key, value in elem.attrib.items():
        if key.startswith("{") and key.endswith("}id"):
            return value
    return None


_SIMPLE_QUOTED_REF = re.compile(r"'((?:[^']|'')+)'(![^'\"]*)")


def _normalise_reference(text: str) -> str:
    """``'Данные'!$D$7`` -> ``Данные!$D$7`` (``''`` -> ``'``); string literals stay as they are."""
    if "'" not in text:
        return text
    m = _SIMPLE_QUOTED_REF.fullmatch(text)
    if m:
        return m.group(1).replace("''", "'") + m.group(2)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':  # a string literal, "" inside it is an escaped quote
            j = i + 1
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
        elif ch == "'":
            j, name = i + 1, []
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        name.append("'")
                        j += 2
                        continue
                    break
                name.append(text[j])
                j += 1
            if j + 1 < n and text[j] == "'" and text[j + 1] == "!":
                out.append("".join(name))
            else:
                out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _rich_text(elem: ET.Element, ns: str) -> str:
    """Text of an <si>/<is>: its <t>, or the <t> of every <r> run; phonetic runs are skipped."""
    t_tag, r_tag = ns + "t", ns + "r"
    parts = []
    for child in elem:
        tag = child.tag
        if tag == t_tag:
            parts.append(child.text or "")
        elif tag == r_tag:
            for grand in child:
                if grand.tag == t_tag:
                    parts.append(grand.text or "")
    return _unescape("".join(parts))


class _Package:
    def __init__(self, source: Path | str | bytes | bytearray | memoryview,
                 parts: Mapping[str, bytes] | None = None) -> None:
        self.parts: dict[str, bytes] | None = None
        if parts is not None:  # already unpacked (and checked) by the safety layer
            self.zip = None
            self.parts = {name.lower(): data for name, data in parts.items()}
            self.members = {name.lower(): name for name in parts}
            return
        try:
            if isinstance(source, (bytes, bytearray, memoryview)):
                self.zip = zipfile.ZipFile(io.BytesIO(bytes(source)))
            else:
                self.zip = zipfile.ZipFile(Path(source))
        except zipfile.BadZipFile as exc:
            raise ValueError(f"not a zip package: {exc}") from exc
        except OSError as exc:
            raise ValueError(f"cannot open the package: {exc}") from exc
        # OPC part names are case-insensitive
        self.members = {info.filename.lower(): info.filename for info in self.zip.infolist()}

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def has(self, name: str) -> bool:
        return name.lower() in self.members

    def read(self, name: str) -> bytes:
        member = self.members.get(name.lower())
        if member is None:
            raise ValueError(f"{name}: part is missing from the package")
        if self.parts is not None:
            return self.parts[name.lower()]
        try:
            return self.zip.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                OSError) as exc:
            raise ValueError(f"{name}: cannot decompress the part: {exc}") from exc

    def read_xml_bytes(self, name: str) -> bytes:
        data = self.read(name)
        for bad in _FORBIDDEN:
            if bad in data:
                raise ValueError(f"{name}: declares {bad[2:].decode()}, refused")
        return data

    @staticmethod
    def parse(name: str, data: bytes) -> ET.Element:
        try:
            return ET.fromstring(data)
        except (ET.ParseError, LookupError, UnicodeError) as exc:  # LookupError: encoding="?"
            raise ValueError(f"{name}: not well-formed XML: {exc}") from exc

    def xml(self, name: str) -> ET.Element:
        """The parsed part. Small parts (workbook, styles, relationships, content types) recur
        byte for byte in every return of a round: their trees are cached, and must not be
        modified."""
        return _parse_cached(name, self.read_xml_bytes(name))

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """rId -> (type, resolved part name) of the internal relationships of ``part``."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has(rels_name):
            return {}
        root = self.xml(rels_name)
        out: dict[str, tuple[str, str]] = {}
        for rel in root:
            if _local(rel.tag) != "Relationship":
                continue
            if (rel.get("TargetMode") or "").lower() == "external":
                continue
            rid, target, rtype = rel.get("Id"), rel.get("Target"), rel.get("Type") or ""
            if not rid or target is None:
                raise ValueError(f"{rels_name}: a Relationship without Id or Target")
            out[rid] = (rtype, _resolve(folder, target, rels_name))
        return out


@lru_cache(maxsize=128)
def _parse_cached(name: str, data: bytes) -> ET.Element:
    return _Package.parse(name, data)


def _resolve(folder: str, target: str, where: str) -> str:
    target = target.split("#", 1)[0].replace("\\", "/")
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    path = posixpath.normpath(path) if path else path
    if not path or path.startswith("../") or path == ".." or path == ".":
        raise ValueError(f"{where}: relationship target {target!r} leaves the package")
    return path


def _content_types(pkg: _Package) -> tuple[dict[str, str], dict[str, str]]:
    name = "[Content_Types].xml"
    if not pkg.has(name):
        raise ValueError(f"{name}: part is missing, not an OOXML package")
    overrides: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for elem in pkg.xml(name):
        local = _local(elem.tag)
        if local == "Override":
            part, ctype = elem.get("PartName"), elem.get("ContentType")
            if not part or ctype is None:
                raise ValueError(f"{name}: an Override without PartName or ContentType")
            overrides[part] = ctype
        elif local == "Default":
            ext, ctype = elem.get("Extension"), elem.get("ContentType")
            if ext and ctype is not None:
                defaults[ext.lower()] = ctype
    return overrides, defaults


def _workbook_part(pkg: _Package) -> str:
    """The workbook part, found as Excel finds it: _rels/.rels -> officeDocument."""
    if not pkg.has("_rels/.rels"):
        raise ValueError("_rels/.rels: part is missing, not an OOXML package")
    for rtype, target in pkg.rels("").values():
        if rtype.endswith(_REL_OFFICE_DOCUMENT):
            if not pkg.has(target):
                raise ValueError(f"{target}: the workbook part is missing from the package")
            return target
    raise ValueError("_rels/.rels: no officeDocument relationship to a workbook part")


def _cell_xfs_locked(pkg: _Package, part: str | None) -> list[bool]:
    if part is None or not pkg.has(part):
        return []
    root = pkg.xml(part)
    ns = _ns(root)
    xfs = root.find(ns + "cellXfs")
    if xfs is None:
        return []
    locked = []
    protection_tag = ns + "protection"
    for xf in xfs:
        if xf.tag != ns + "xf":
            continue
        prot = xf.find(protection_tag)
        locked.append(xml_bool(prot.get("locked"), True) if prot is not None else True)
    return locked


def _shared_strings(pkg: _Package, part: str | None, fast: bool) -> list[str]:
    if part is None or not pkg.has(part):
        return []
    data = pkg.read_xml_bytes(part)
    strings = (_shared_strings_by_item(data) or _shared_strings_fast(data)) if fast else None
    if strings is not None:
        return strings
    root = pkg.parse(part, data)
    ns = _ns(root)
    si_tag = ns + "si"
    return [_rich_text(si, ns) for si in root if si.tag == si_tag]


# -- fast path ------------------------------------------------------------------------------------
# The bulk of a package is <sheetData> and the shared strings. ElementTree builds ~1.5 us per
# element, so those two are scanned with regular expressions when the part is "plain" (see
# _plain) and the scanned text is made, exactly and only, of the tokens the patterns know: rows,
# and cells written as <c r=".." s=".." t=".."> (in that order, as Excel, XlsxWriter and
# LibreOffice write them) holding an optional <f> and <v>. Anything else (inline strings,
# attributes in another order or quoted with ', comments, namespace prefixes, junk, an illegal
# character reference, a cell outside its row) sends the part to ElementTree, which is the
# reference behaviour: the tests compare both paths, also on mutated packages.
#
# Layouts: the returns of a round are one template saved by one or two office programs, so a
# sheet part differs from return to return only in its <v> texts, and the shared strings only
# in their <t> texts. A part read by the fast path is remembered by its bytes with those texts
# emptied (its "layout"); a later part with the same layout costs one regular-expression split
# and the cells or strings whose text changed. The layout fixes the markup byte for byte (a text
# holds no "<", so it can neither hide markup nor make a <v></v>), so everything checked of the
# first part (no DTD, plain UTF-8, the fast path's grammar) holds for the later ones. A sheet
# whose layout is new (a region typed into optional cells) but whose frame (all but the rows)
# was read in full is read by chunks of rows, each from the layout of the same rows seen
# before or scanned alone; rows must come in order, so no cell can appear twice unseen.


_first = itemgetter(0)


class _Fallback(Exception):
    """The fast scanner is not sure: parse the part with ElementTree."""


_PROLOG = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml\b([^?]*)\?>)?")
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([^\"']*)[\"']")
_NS_TRANSITIONAL = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_MAIN_NS_URIS = (b"/spreadsheetml/2006/main\"", b"/ooxml/spreadsheetml/main\"")
_MAIN_NS_DEFAULT = (f'xmlns="{_NS_TRANSITIONAL}"'.encode(), f'xmlns="{_NS_STRICT}"'.encode())
_ENTITY = re.compile(r"&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ATTR = re.compile(r'([^\s=]+)\s*=\s*"([^"<]*)"')
_ATTRS = r'(?:\s+[A-Za-z_][\w.:-]*="[^"<&]*")*\s*'  # attributes, strict syntax, no references
# the attributes of <row> in the order of the schema (Excel, XlsxWriter and LibreOffice write
# them so), each at most once
_ROW_ATTRS = "".join(
    f'(?: {name}="{value}")?' for name, value in (
        ("spans", r"[0-9: ]*"), ("s", r"[0-9]+"), ("customFormat", r"[a-z0-9]+"),
        ("ht", r"[0-9.Ee+-]+"), ("hidden", r"[a-z0-9]+"), ("customHeight", r"[a-z0-9]+"),
        ("outlineLevel", r"[0-9]+"), ("collapsed", r"[a-z0-9]+"), ("thickTop", r"[a-z0-9]+"),
        ("thickBot", r"[a-z0-9]+"), ("ph", r"[a-z0-9]+"), ("x14ac:dyDescent", r"[0-9.Ee+-]+"),
    )
)
_FAST_TOKEN = re.compile(
    r"(\s*(?:"
    r'<row r="([0-9]{1,7})"' + _ROW_ATTRS + r"\s*(/)?>"  # 2: row number, 3: empty row
    r"|(</row>)"  # 4
    r'|<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="([0-9]{1,9})")?(?: t="([A-Za-z]{1,9})")?'  # 5-8
    r'(?: cm="[0-9]*")?(?: vm="[0-9]*")?(?: ph="[0-9a-z]*")?\s*(/)?>'  # 9: empty cell
    r"(?(9)|\s*"
    r"(?:(<f" + _ATTRS + r"/?>)(?:(?<=/>)|([^<]*)</f>)\s*)?"  # 10: <f ...>, 11: its text
    r"(?:(<v" + _ATTRS + r"/?>)(?:(?<=/>)|([^<]*)</v>)\s*)?"  # 12: <v ...>, 13: its text
    r"</c>)"
    r"))"
)
_SI = re.compile(
    r"(\s*(?:<si>(?:<t(?: xml:space=\"preserve\")?>([^<]*)</t>|<t/>)?</si>|<si/>"  # 2: plain
    r"|<si>(.*?)</si>))",  # 3: rich text runs, phonetic runs...
    re.DOTALL,
)


def _plain(data: bytes) -> int | None:
    """Offset after the prolog when ``data`` can be scanned by the fast path, else None.

    Plain: UTF-8; no comments, CDATA or processing instructions; the SpreadsheetML namespace
    declared once, as the default namespace (so no element of it can carry a prefix).
    """
    m = _PROLOG.match(data)
    if m.group(1):
        enc = _ENCODING.search(m.group(1))
        if enc and enc.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
            return None
    end = m.end()
    if data.find(b"<?", end) >= 0 or b"<!--" in data or b"<![CDATA[" in data:
        return None
    if data.count(_MAIN_NS_URIS[0]) + data.count(_MAIN_NS_URIS[1]) != 1 or (
            _MAIN_NS_DEFAULT[0] not in data and _MAIN_NS_DEFAULT[1] not in data):
        return None
    return end


def _entity(m: re.Match) -> str:
    if m.group(3):
        return _NAMED[m.group(3)]
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or (
            0x10000 <= code <= 0x10FFFF):
        return chr(code)
    raise _Fallback  # not a legal XML character: let ElementTree report it


def _decoded(s: str) -> str:
    """XML character data as a parser returns it: line ends normalised, references replaced.
    (Short texts are memoised: the same formula texts recur in every return of a round.)"""
    return _decoded_short(s) if len(s) <= 2048 else _decode(s)


@lru_cache(maxsize=8192)
def _decoded_short(s: str) -> str:
    return _decode(s)


def _decode(s: str) -> str:
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in s:
        if "&#" in s:
            amps = s.count("&")
            s, n = _ENTITY.subn(_entity, s)
            if n != amps:
                raise _Fallback  # a bare & or an unknown entity: not well-formed
        else:
            s = (s.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                 .replace("&apos;", "'"))
            if s.count("&") != s.count("&amp;"):
                raise _Fallback  # a bare & or an unknown entity: not well-formed
            s = s.replace("&amp;", "&")
    return s


def _attrs(tag: str) -> dict[str, str]:
    """Attributes of a start tag ``<f t="shared" si="0"/>`` (already matched as well-formed)."""
    out = {}
    for key, value in _ATTR.findall(tag):
        if key in out:
            raise _Fallback  # a duplicate attribute: not well-formed
        if "&" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
            value = _decoded(value.replace("\t", " "))
        out[key] = value
    return out


def _sst_frame(data: bytes) -> tuple[int, int, str] | None:
    """(end of the <sst> start tag, start of </sst>, namespace) of a plain shared strings part
    whose prolog and root are well-formed; None when not sure."""
    if _plain(data) is None:
        return None
    i = data.find(b"<sst")
    k = data.find(b">", i)
    j = data.rfind(b"</sst>")
    if i < 0 or k < 0 or j < k or data[k - 1 : k] == b"/":
        return None
    try:
        ET.fromstring(data[: k + 1] + data[j:])  # the prolog and the root are well-formed
    except (ET.ParseError, LookupError, UnicodeError):
        return None
    return k, j, _NS_STRICT if _MAIN_NS_DEFAULT[1] in data else _NS_TRANSITIONAL


def _si_string(groups: tuple[str, str, str], ns: str) -> str:
    """The string of one <si> matched by _SI (its groups). Raises _Fallback or ET.ParseError
    when not sure."""
    _whole, plain, rich = groups
    if rich:  # rare: runs of formatted text; parsed (and checked) as a tree
        return _rich_text(ET.fromstring(f'<si xmlns="{ns}">{rich}</si>'), "{" + ns + "}")
    if not plain:
        return ""
    if "&" in plain or "\r" in plain:
        plain = _decoded(plain)
    return _unescape(plain) if "_x" in plain else plain


def _shared_strings_fast(data: bytes) -> list[str] | None:
    frame = _sst_frame(data)
    if frame is None:
        return None
    k, j, ns = frame
    try:
        body = data[k + 1 : j].decode("utf-8").rstrip()
    except UnicodeError:
        return None
    items = _SI.findall(body)
    if sum(map(len, map(_first, items))) != len(body):
        return None  # something besides <si> items (extLst, junk)
    try:
        out = [_si_string(item, ns) for item in items]
    except (_Fallback, ET.ParseError):
        return None
    if all(whole.endswith("</si>") for whole, _plain_text, _rich in items):
        _remember_items(ns, [whole[:-5].encode("utf-8") for whole, _p, _r in items], out)
    return out


def _shared_strings_by_item(data: bytes) -> list[str] | None:
    """The shared strings, item by item from the items seen before: the returns of a round
    share nearly all their strings (the labels), so each ``<si>`` is looked up by its bytes
    and only the new ones (the region's name, typed texts) are read. None when not sure (then
    :func:`_shared_strings_fast` decides)."""
    frame = _sst_frame(data)
    if frame is None:
        return None
    k, j, ns = frame
    pieces = data[k + 1 : j].split(b"</si>")
    if pieces.pop().strip():
        return None  # something after the last item
    known = _STRING_ITEMS.get
    strings = [known((ns, piece)) for piece in pieces]
    if None in strings:
        try:
            for i, piece in enumerate(pieces):
                if strings[i] is None:
                    match = _SI.fullmatch(piece.decode("utf-8") + "</si>")
                    if match is None:
                        return None
                    strings[i] = _si_string(match.groups(), ns)
        except (_Fallback, UnicodeDecodeError, ET.ParseError):
            return None
        _remember_items(ns, pieces, strings)
    return strings


def _remember_items(ns: str, pieces: list[bytes], strings: list[str]) -> None:
    """Keep the short items (labels recur; a long text, such as the manifest, is one file's)."""
    global _STRING_ITEMS_BYTES
    for piece, string in zip(pieces, strings):
        if len(piece) <= _STRING_ITEM_MAX and (ns, piece) not in _STRING_ITEMS:
            if _STRING_ITEMS_BYTES > _STRING_ITEMS_MAX_BYTES:
                _STRING_ITEMS.clear()  # a bound, not a policy: a round's labels come back
                _STRING_ITEMS_BYTES = 0
            _STRING_ITEMS[(ns, piece)] = string
            _STRING_ITEMS_BYTES += 2 * len(piece) + 100


#: (namespace, bytes of an <si> item without its "</si>") -> its string, for short items read
#: exactly by the fast path. A round's returns share some 350 items, ~50 KB.
_STRING_ITEMS: dict[tuple[str, bytes], str] = {}
_STRING_ITEM_MAX = 2048
_STRING_ITEMS_MAX_BYTES = 4 * 1024 * 1024
_STRING_ITEMS_BYTES = 0  # about what _STRING_ITEMS holds


# -- both paths -----------------------------------------------------------------------------------


def _translate(formula: str, origin: str, dest: str, part: str) -> str:
    if origin == dest:
        return formula
    from openpyxl.formula.tokenizer import TokenizerError
    from openpyxl.formula.translate import Translator, TranslatorError

    try:
        return Translator("=" + formula, origin=origin).translate_formula(dest)[1:]
    except (TokenizerError, TranslatorError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{part}: cannot translate the shared formula {formula!r} from {origin} to {dest}: "
            f"{exc}"
        ) from exc


def _new_cell(value: object, formula: str | None, locked: bool, kind: str,
              formula_type: str | None, _new=object.__new__) -> CellXml:
    """CellXml(...) at half the cost of the frozen dataclass __init__ (same object)."""
    cell = _new(CellXml)
    d = cell.__dict__
    d["value"] = value
    d["formula"] = formula
    d["locked"] = locked
    d["kind"] = kind
    d["formula_type"] = formula_type
    return cell


class _Cells:
    """Collects the cells of one sheet; shared and array formulas are resolved in finish()."""

    def __init__(self, part: str, strings: list[str], locked_xfs: list[bool]) -> None:
        self.part = part
        self.strings = strings
        self.xfs = locked_xfs
        self.default_locked = locked_xfs[0] if locked_xfs else True
        self.cells: dict[str, CellXml] = {}
        self.seen: set[str] = set()
        self.followers: list[tuple[str, str]] = []  # (cell, si) of shared formula members
        self.masters: dict[str, tuple[str, str]] = {}  # si -> (formula text, origin cell)
        self.arrays: list[tuple[str, str]] = []  # (range, formula)

    def locked(self, ref: str, s: str | None) -> bool:
        if not s or s == "0":
            return self.default_locked
        try:
            return self.xfs[int(s)]
        except (ValueError, IndexError):
            raise ValueError(
                f"{self.part}: cell {ref} uses style {s!r}, but the styles part has"
                f" {len(self.xfs)} cellXfs"
            ) from None

    def value(self, ref: str, t: str, text: str | None, inline: str | None) -> object:
        part = self.part
        if t == "n":
            if text is None or not text.strip():
                return None
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{part}: cell {ref} has number {text!r}") from None
        if t == "s":
            if text is None or not text.strip():
                return None
            try:
                return self.strings[int(text)]
            except (ValueError, IndexError):
                raise ValueError(
                    f"{part}: cell {ref} refers to shared string {text!r}, but there are"
                    f" {len(self.strings)}"
                ) from None
        if t == "str":
            return _unescape(text) if text is not None else None
        if t == "inlineStr":
            if inline is not None:
                return inline
            return _unescape(text) if text is not None else None
        if t == "b":
            flag = (text or "").strip().lower()
            if not flag:
                return None
            if flag in ("1", "true"):
                return True
            if flag in ("0", "false"):
                return False
            raise ValueError(f"{part}: cell {ref} has boolean {text!r}")
        if t in ("e", "d"):
            return text.strip() if text and text.strip() else None
        raise ValueError(f"{part}: cell {ref} has unknown type t={t!r}")

    def add(self, ref: str, s: str | None, t: str | None, fa: dict | None, ftext: str | None,
            vtext: str | None, inline: str | None, check: bool = True) -> None:
        """One <c>: ``fa`` the attributes of its <f> (None without one), ``vtext`` the text of
        its <v> (None without one), ``inline`` the text of its <is>. ``check=False``: the
        caller has made sure ``ref`` is upper case and unique."""
        if check:
            ref = ref.upper()
            if ref in self.seen:
                raise ValueError(f"{self.part}: cell {ref} appears twice")
            self.seen.add(ref)
        locked = self.locked(ref, s)
        t = t or "n"
        value = self.value(ref, t, vtext, inline)
        formula = ftype = None
        if fa is not None:
            ftype = fa.get("t") or "normal"
            formula = (ftext or "").removeprefix("=")
            if ftype == "shared":
                si = fa.get("si")
                if si is None:
                    raise ValueError(f"{self.part}: the shared formula of {ref} has no si")
                if fa.get("ref") and formula:
                    self.masters[si] = (formula, ref)
                elif not formula:  # a member: its text comes from the master
                    self.followers.append((ref, si))
            elif ftype == "array":
                self.arrays.append((fa.get("ref") or ref, formula))
            elif ftype == "dataTable":
                formula = None
        if value is None and formula is None and ftype is None and locked:
            return  # a styled blank
        self.cells[ref] = _new_cell(value, formula, locked, t, ftype)

    def finish(self) -> dict[str, CellXml]:
        cells, part = self.cells, self.part
        for ref, si in self.followers:
            master = self.masters.get(si)
            if master is None:
                raise ValueError(f"{part}: cell {ref} uses shared formula si={si}, which has no"
                                 " master cell with its text")
            cell = cells[ref]
            cells[ref] = _new_cell(cell.value, _translate(master[0], master[1], ref, part),
                                   cell.locked, cell.kind, cell.formula_type)
        for aref, formula in self.arrays:  # every cell of an array range shows the formula
            for ref in _range_cells(aref, part):
                cell = cells.get(ref)
                if cell is None:
                    cells[ref] = _new_cell(None, formula, True, "n", "array")
                elif cell.formula is None:
                    cells[ref] = _new_cell(cell.value, formula, cell.locked, cell.kind, "array")
        return cells


def _cells_fast(region: str, builder: _Cells, with_v: list | None = None) -> bool:
    """Read the cells of a <sheetData> content into ``builder``; False when not sure (then
    ``builder`` must be thrown away). ``with_v``: gets (cell, t, s, text) of each cell written
    with a plain ``<v>``, in order (for _layout)."""
    if "xmlns" in region:
        return False  # a namespace (re)declared inside sheetData
    region = region.rstrip()
    found = _FAST_TOKEN.findall(region)
    if sum(map(len, map(_first, found))) != len(region):
        return False  # not made only of the rows and cells the pattern knows
    cells, strings, add = builder.cells, builder.strings, builder.add
    default_locked = builder.default_locked
    lock_of = {"": default_locked, "0": default_locked}
    lock_of.update((str(i), flag) for i, flag in enumerate(builder.xfs) if i)
    n_strings = len(strings)
    f_attrs: dict[str, dict] = {"<f>": {}}
    new = object.__new__
    refs = []
    in_row = False
    row = ""
    try:
        for (_whole, row_r, row_empty, row_end, col, row_no, s, t, _empty, f_tag, f_text, v_tag,
             v_text) in found:
            if not col:  # a row
                if row_end:
                    if not in_row:
                        return False
                    in_row = False
                elif in_row or row_r[0] == "0" or int(row_r) > 1_048_576:
                    return False  # nested, or out of the sheet: let the tree say
                else:
                    in_row = not row_empty
                    row = row_r
                continue
            if not in_row or row_no != row or (len(col) == 3 and col > "XFD"):
                return False
            ref = col + row_no
            refs.append(ref)
            if with_v is not None and v_tag == "<v>":
                with_v.append((ref, t, s, v_text))
            locked = lock_of.get(s)
            if locked is None:
                locked = builder.locked(ref, s)  # a style index like "007", or out of range
            if v_tag and v_tag != "<v>" and v_tag != "<v/>":
                _attrs(v_tag)  # checks for duplicate attributes
            if f_tag or (t and t != "s" and t != "n"):
                fa = None
                if f_tag:
                    fa = f_attrs.get(f_tag)
                    if fa is None:
                        fa = f_attrs[f_tag] = _attrs(f_tag)
                    if "&" in f_text or "\r" in f_text:
                        f_text = _decoded(f_text)
                if v_text and ("&" in v_text or "\r" in v_text):
                    v_text = _decoded(v_text)
                if fa is None or fa.get("t", "normal") != "normal":
                    add(ref, s, t, fa, f_text if f_tag else None, v_text if v_tag else None,
                        None, check=False)
                    continue
                # a plain formula, inline
                kind = t or "n"
                if kind == "n" and v_text:
                    try:
                        value = float(v_text)
                    except ValueError:
                        value = builder.value(ref, kind, v_text, None)
                else:
                    value = builder.value(ref, kind, v_text if v_tag else None, None)
                cell = new(CellXml)
                d = cell.__dict__
                d["value"] = value
                d["formula"] = f_text.removeprefix("=")
                d["locked"] = locked
                d["kind"] = kind
                d["formula_type"] = "normal"
                cells[ref] = cell
                continue
            # the common cells, inline: a blank, a number, a shared string
            if not v_text:
                if locked:
                    continue  # a styled blank (or <v/>: no value either)
                value = None
            elif t == "s":
                if v_text.isdigit() and int(v_text) < n_strings:
                    value = strings[int(v_text)]
                else:
                    value = builder.value(ref, "s", _decoded(v_text), None)
            else:
                try:
                    value = float(v_text)
                except ValueError:
                    value = builder.value(ref, "n", _decoded(v_text), None)
                    if value is None and locked:
                        continue  # a styled blank after all (<v> </v>), as _Cells.add says
            cell = new(CellXml)
            d = cell.__dict__
            d["value"] = value
            d["formula"] = None
            d["locked"] = locked
            d["kind"] = t or "n"
            d["formula_type"] = None
            cells[ref] = cell
    except _Fallback:
        return False
    if in_row:
        return False
    if len(set(refs)) != len(refs):
        seen: set[str] = set()
        for ref in refs:
            if ref in seen:
                raise ValueError(f"{builder.part}: cell {ref} appears twice")
            seen.add(ref)
    return True


def _cells_by_layout(layout: _Layout, texts: list[bytes], builder: _Cells
                     ) -> dict[str, CellXml] | None:
    """The cells of a sheet whose markup, once the <v> texts are taken out, is ``layout``'s:
    its cells, with those whose text or shared string changed read again. None when a text is
    not one the fast path is sure of (bad UTF-8, an unknown entity)."""
    strings = builder.strings
    changed = [i for i, text, known in zip(count(), texts, layout.texts) if text != known]
    changed += layout.reread
    if layout.strings_of is not None:
        try:
            now = layout.strings_of(strings)
        except IndexError:  # fewer shared strings: every string cell is read again
            changed += layout.string_slots
        else:
            if now != layout.string_values:
                changed += [i for i, a, b in zip(layout.string_slots, now, layout.string_values)
                            if a != b]
    cells = dict(layout.cells)
    slots = layout.slots
    try:
        for i in changed:
            ref, kind, locked, formula, formula_type = slots[i]
            text = texts[i].decode("utf-8")
            if "&" in text or "\r" in text:
                text = _decoded(text)
            value = builder.value(ref, kind, text, None)
            if value is None and formula is None and formula_type is None and locked:
                cells.pop(ref, None)  # a styled blank
            else:
                cells[ref] = _new_cell(value, formula, locked, kind, formula_type)
    except (_Fallback, UnicodeDecodeError):
        return None
    return cells


@dataclass(frozen=True)
class _Layout:
    """What a sheet part read as, kept by its markup without the <v> texts (see _read_sheet)."""

    cells: dict[str, CellXml]  # as read from the sheet (or rows) that made the layout
    rest: tuple | None  # what _sheet_rest said of the sheet; None for some rows of a sheet
    texts: list[bytes]  # its <v> texts, in order
    #: for each <v>text</v>: (cell, t, locked, formula, formula type) of the cell it belongs to
    slots: list[tuple]
    string_slots: list[int]  # the slots that showed a shared string by a plain index
    reread: list[int]  # the other slots of shared-string cells (an index written "&#49;")
    string_values: tuple[str, ...] | None  # those strings, in that order
    #: shared strings list -> the strings of string_slots, a tuple (IndexError: list too short)
    strings_of: Callable[[list[str]], tuple[str, ...]] | None
    rows: tuple[int, int] = (0, 0)  # for some rows: the first and the last row number


def _layout(with_v: list[tuple], texts: list[bytes], cells: dict[str, CellXml],
            rest: tuple | None, builder: _Cells, rows: tuple[int, int] = (0, 0)
            ) -> _Layout | None:
    """The layout of a sheet read by the fast path: ``with_v`` its cells written with a plain
    <v> (as _cells_fast lists them), whose texts are ``texts``. None when they do not pair up."""
    slots, string_slots, indices, reread = [], [], [], []
    for ref, t, s, v_text in with_v:
        cell = cells.get(ref)
        if cell is None:  # a styled blank: no formula (a formula always makes a cell)
            slots.append((ref, t or "n", builder.locked(ref, s), None, None))
        else:
            slots.append((ref, cell.kind, cell.locked, cell.formula, cell.formula_type))
            if cell.kind == "s" and v_text.isdigit() and int(v_text) < len(builder.strings):
                string_slots.append(len(slots) - 1)
                indices.append(int(v_text))
            elif cell.kind == "s":
                reread.append(len(slots) - 1)
    if len(slots) != len(texts):
        return None
    strings_of = None
    if len(indices) > 1:
        strings_of = itemgetter(*indices)
    elif indices:  # itemgetter of one index gives the item, not a tuple
        strings_of = partial(_one_string, indices[0])
    return _Layout(dict(cells), rest, texts, slots, string_slots, reread,
                   strings_of(builder.strings) if strings_of else None, strings_of, rows)


def _one_string(index: int, strings: list[str]) -> tuple[str]:
    return (strings[index],)


_V_TEXT = re.compile(rb"<v>([^<]*)</v>")
#: layout key -> _Layout, least recently used first. A round has a few layouts per sheet (one
#: per office program that saved returns); the bound keeps memory flat however many files are
#: read.
_LAYOUTS: dict[tuple, _Layout] = {}
_SEEN: dict[int, None] = {}  # hashes of the layout keys of the sheets read lately
_LAYOUTS_KEPT = 32  # ~0.2 MB each: 7 sheets, 4 office programs
_ROW_NUMBER = re.compile(rb'<row r="([0-9]{1,7})"')
_CHUNK_ROWS = 8
#: (part, markup of some rows without their <v> texts, locked flags) -> _Layout, least recently
#: used first: for a sheet whose whole layout is new (a region typed into optional cells)
_CHUNKS: dict[tuple, _Layout] = {}
_CHUNKS_KEPT = 512  # ~10 KB each
#: (part, the sheet's markup around its rows) -> what _sheet_rest said of it, for sheets read
#: by the fast path whose every <v> is a cell's; as many as _LAYOUTS
_FRAMES: dict[tuple, tuple] = {}


def _keep(cache: dict, key: object, value: object, bound: int) -> None:
    """Put ``key`` last in ``cache`` (oldest first) and drop the oldest beyond ``bound``."""
    cache[key] = value
    while len(cache) > bound:
        del cache[next(iter(cache))]


def _frame(key: bytes) -> tuple[int, int] | None:
    """(end of the <sheetData> start tag, start of </sheetData>) in a sheet's markup."""
    i = key.find(b"<sheetData")
    k = key.find(b">", i) if i >= 0 else -1
    if k < 0 or key[k - 1 : k] == b"/" or key.find(b"<sheetData", i + 1) >= 0:
        return None
    j = key.find(b"</sheetData>", k)
    return (k, j) if j > 0 else None


def _cells_by_chunks(part: str, key: bytes, texts: list[bytes], builder: _Cells
                     ) -> tuple[dict[str, CellXml], tuple] | None:
    """(cells, rest) of a sheet with a new layout but a frame (all but its rows) read before:
    its rows by chunks of _CHUNK_ROWS, each from the layout of the same rows seen before or
    scanned; None when not sure (then the sheet is read as usual)."""
    where = _frame(key)
    if where is None:
        return None
    k, j = where
    rest = _FRAMES.get((part, key[: k + 1], key[j:]))
    if rest is None:
        return None
    rows = key[k + 1 : j].split(b"<row ")
    if rows[0].strip():
        return None
    xfs = tuple(builder.xfs)
    cells: dict[str, CellXml] = {}
    slot = last_row = 0
    try:
        for start in range(1, len(rows), _CHUNK_ROWS):
            chunk = b"<row " + b"<row ".join(rows[start : start + _CHUNK_ROWS])
            n = chunk.count(b"<v></v>")
            chunk_texts = texts[slot : slot + n]
            slot += n
            chunk_key = (part, chunk, xfs)
            layout = _CHUNKS.pop(chunk_key, None)
            if layout is None:
                layout = _chunk_layout(chunk, chunk_texts, builder)
                if layout is None:
                    return None
                found = layout.cells
            else:
                found = _cells_by_layout(layout, chunk_texts, builder)
                if found is None:
                    return None
            _keep(_CHUNKS, chunk_key, layout, _CHUNKS_KEPT)  # the most recently used last
            if layout.rows[0] <= last_row:
                return None  # rows out of order (each chunk's are in order)
            last_row = layout.rows[1]
            cells.update(found)
    except ValueError:
        return None  # the whole sheet says it, in its words
    return cells, rest


def _chunk_layout(chunk: bytes, texts: list[bytes], builder: _Cells) -> _Layout | None:
    """Scan some rows (their markup without <v> texts, and the texts) with the fast path."""
    between = chunk.split(b"<v></v>")
    if len(between) != len(texts) + 1:
        return None
    parts = [between[0]]
    for text, after in zip(texts, between[1:]):
        parts += (b"<v>", text, b"</v>", after)
    try:
        region = b"".join(parts).decode("utf-8")
    except UnicodeDecodeError:
        return None
    numbers = [int(n) for n in _ROW_NUMBER.findall(chunk)]
    if not numbers or any(a >= b for a, b in pairwise(numbers)):
        return None  # rows out of order: the whole sheet decides about duplicates
    fresh = _Cells(builder.part, builder.strings, builder.xfs)
    with_v: list[tuple] = []
    if not _cells_fast(region, fresh, with_v):
        return None
    if fresh.arrays or fresh.masters or fresh.followers:
        return None  # formulas across rows: the whole sheet decides
    return _layout(with_v, texts, fresh.finish(), None, fresh, (numbers[0], numbers[-1]))


# -- tree path ------------------------------------------------------------------------------------


def _cells_tree(root: ET.Element, ns: str, builder: _Cells) -> None:
    c_tag, v_tag, f_tag, is_tag, row_tag = ns + "c", ns + "v", ns + "f", ns + "is", ns + "row"
    part = builder.part
    sheet_data = root.find(ns + "sheetData")
    row_no = 0
    for row in sheet_data if sheet_data is not None else ():
        if row.tag != row_tag:
            continue
        r_attr = row.get("r")
        try:
            row_no = int(r_attr) if r_attr else row_no + 1
        except ValueError:
            raise ValueError(f"{part}: row number {r_attr!r} is not an integer") from None
        if not 1 <= row_no <= 1_048_576:
            raise ValueError(f"{part}: row number {row_no} is outside the sheet")
        col_no = 0
        for c in row:
            if c.tag != c_tag:
                continue
            ref = c.get("r")
            if ref:
                col_no, cell_row = _split_cell(ref, part)
                if cell_row != row_no:
                    raise ValueError(f"{part}: cell {ref} is inside row {row_no}")
            else:
                col_no += 1
            ref = _col_letters(col_no) + str(row_no)
            f = c.find(f_tag)
            v = c.find(v_tag)
            is_elem = c.find(is_tag)
            builder.add(
                ref, c.get("s"), c.get("t"),
                dict(f.attrib) if f is not None else None,
                (f.text or "") if f is not None else None,
                (v.text or "") if v is not None else None,
                _rich_text(is_elem, ns) if is_elem is not None else None,
            )


def _read_sheet(pkg: _Package, part: str, name: str, state: str, strings: list[str],
                locked_xfs: list[bool], fast: bool = True) -> SheetXml:
    """One worksheet part (see "Layouts" above the fast path). A sheet whose layout is kept
    costs one regular-expression split and the cells whose text or shared string changed; a
    layout is kept once it recurs, after a full read (which also checks for DTDs). A sheet
    with a new layout but a known frame is read by chunks of rows; anything else is read in
    full, by the fast path or by ElementTree."""
    key = pieces = None
    recurring = False
    if fast:
        pieces = _V_TEXT.split(pkg.read(part))
        key = (part, b"<v></v>".join(pieces[0::2]), tuple(locked_xfs))
        layout = _LAYOUTS.pop(key, None)
        if layout is not None:
            _keep(_LAYOUTS, key, layout, _LAYOUTS_KEPT)  # the most recently used last
            cells = _cells_by_layout(layout, pieces[1::2], _Cells(part, strings, locked_xfs))
            if cells is not None:
                return _sheet_xml(name, state, cells, layout.rest, part)
        recurring = _seen(key)
        if not recurring:  # (a recurring layout is read in full once, and kept)
            found = _cells_by_chunks(part, key[1], pieces[1::2],
                                     _Cells(part, strings, locked_xfs))
            if found is not None:
                return _sheet_xml(name, state, *found, part)
    data = pkg.read_xml_bytes(part)
    cells = rest = None
    start = _plain(data) if fast else None
    if start is not None:
        i = data.find(b"<sheetData", start)
        k = data.find(b">", i) if i >= 0 else -1
        if k > 0 and data[k - 1 : k] != b"/" and data.find(b"<sheetData", i + 1) < 0:
            j = data.find(b"</sheetData>", k)
            try:
                region = data[k + 1 : j].decode("utf-8") if j > 0 else None
            except UnicodeDecodeError:
                region = None
            builder = _Cells(part, strings, locked_xfs)
            with_v: list[tuple] | None = [] if recurring else None
            if region is not None and _cells_fast(region, builder, with_v):
                cells = builder.finish()
                rest = _sheet_rest_cached(part, data[:i] + b"<sheetData/>" + data[j + 12 :])
                if (key is not None and _V_TEXT.search(data, 0, k + 1) is None
                        and _V_TEXT.search(data, j) is None):  # every <v> is a cell's
                    where = _frame(key[1])
                    if where is not None:
                        _keep(_FRAMES, (part, key[1][: where[0] + 1], key[1][where[1]:]), rest,
                              _LAYOUTS_KEPT)
                    layout = _layout(with_v, pieces[1::2], cells, rest, builder) if (
                        with_v is not None and not builder.arrays) else None  # (arrays: finish)
                    if layout is not None:
                        _keep(_LAYOUTS, key, layout, _LAYOUTS_KEPT)
    if cells is None:
        root = pkg.parse(part, data)
        builder = _Cells(part, strings, locked_xfs)
        _cells_tree(root, _ns(root), builder)
        cells = builder.finish()
        rest = _sheet_rest(root, part)
    return _sheet_xml(name, state, cells, rest, part)


def _sheet_xml(name: str, state: str, cells: dict[str, CellXml], rest: tuple,
               part: str) -> SheetXml:
    protected, protection, validations, merged, kind = rest
    return SheetXml(name=name, state=state, cells=cells, protected=protected,
                    protection=dict(protection), data_validations=[dict(v) for v in validations],
                    merged=list(merged), part=part, kind=kind)


def _seen(key: tuple) -> bool:
    """Whether a sheet with this layout was read before (then its layout is worth keeping: a
    layout is kept from its second sheet on, so that a one-off costs nothing more)."""
    digest = hash(key)
    if digest in _SEEN:
        return True
    _keep(_SEEN, digest, None, 4 * _LAYOUTS_KEPT)
    return False


@lru_cache(maxsize=256)
def _sheet_rest_cached(part: str, data: bytes) -> tuple:
    """What a sheet says besides its cells; the same bytes recur in every return of a round."""
    return _sheet_rest(_Package.parse(part, data), part)


def _sheet_rest(root: ET.Element, part: str = "") -> tuple:
    """(protected, protection attributes, data validations, merged ranges, root kind)."""
    ns = _ns(root)
    prot_elem = root.find(ns + "sheetProtection")
    protection = dict(prot_elem.attrib) if prot_elem is not None else {}
    protected = prot_elem is not None and xml_bool(protection.get("sheet"))

    merged = []
    mc_parent = root.find(ns + "mergeCells")
    for mc in mc_parent if mc_parent is not None else ():
        if _local(mc.tag) == "mergeCell":
            ref = mc.get("ref")
            if not ref:
                raise ValueError(f"{part}: a mergeCell without ref")
            merged.append(ref)

    validations = []
    for child in root:
        local = _local(child.tag)
        if local == "dataValidations":
            found = list(child)
        elif local == "extLst":  # x14:dataValidations of newer Excel versions
            found = list(child.iter())
        else:
            continue
        for dv in found:
            if _local(dv.tag) != "dataValidation":
                continue
            item: dict = dict(dv.attrib)
            item.setdefault("sqref", None)
            item["formula1"] = item["formula2"] = None
            for sub in dv:
                sub_local = _local(sub.tag)
                if sub_local in ("formula1", "formula2"):
                    inner = [g for g in sub if _local(g.tag) == "f"]
                    item[sub_local] = (inner[0].text if inner else sub.text) or ""
                elif sub_local == "sqref":
                    item["sqref"] = sub.text
            validations.append(item)
    return protected, protection, validations, merged, _local(root.tag)


@lru_cache(maxsize=32)
def _defined_names(wb_part: str, data: bytes, sheet_names: tuple[str, ...]
                   ) -> tuple[tuple[str, str], ...]:
    """The workbook's defined names (name -> normalised reference; a local name as
    "Sheet!name"), from its bytes: the same in every return of a round."""
    wb = _parse_cached(wb_part, data)
    ns = _ns(wb)
    names: dict[str, str] = {}
    folded: set[str] = set()
    dn_parent = wb.find(ns + "definedNames")
    for dn in dn_parent if dn_parent is not None else ():
        if _local(dn.tag) != "definedName":
            continue
        name = dn.get("name")
        if not name:
            raise ValueError(f"{wb_part}: a definedName without a name")
        local_id = dn.get("localSheetId")
        if local_id is not None:
            try:
                key = f"{sheet_names[int(local_id)]}!{name}"
            except (ValueError, IndexError):
                raise ValueError(
                    f"{wb_part}: defined name {name!r} has localSheetId {local_id!r}, but there"
                    f" are {len(sheet_names)} sheets"
                ) from None
        else:
            key = name
        if key.lower() in folded:
            raise ValueError(f"{wb_part}: defined name {key!r} appears twice")
        folded.add(key.lower())
        names[key] = _normalise_reference((dn.text or "").strip())
    return tuple(names.items())


def read_package(path_or_bytes: Path | str | bytes, *, fast: bool = True,
                 parts: Mapping[str, bytes] | None = None) -> PackageXml:
    """Read the locked structure of an .xlsx/.xlsm package (a path or its bytes).

    ``parts``: the package's parts already unpacked (name -> bytes), as the safety layer gives
    them; then the file is not opened again. ``fast=False`` parses every part with ElementTree
    only (the reference the fast scanner is tested against); the result is the same.
    """
    pkg = _Package(path_or_bytes, parts)
    try:
        return _read(pkg, fast)
    finally:
        pkg.close()


def _read(pkg: _Package, fast: bool) -> PackageXml:
    overrides, defaults = _content_types(pkg)
    wb_part = _workbook_part(pkg)
    wb = pkg.xml(wb_part)
    ns = _ns(wb)
    if _local(wb.tag) != "workbook":
        raise ValueError(f"{wb_part}: root element is <{_local(wb.tag)}>, not <workbook>")
    rels = pkg.rels(wb_part)

    def by_type(suffix: str) -> str | None:
        for rtype, target in rels.values():
            if rtype.endswith(suffix):
                return target
        return None

    strings = _shared_strings(pkg, by_type("/sharedStrings"), fast)
    locked_xfs = _cell_xfs_locked(pkg, by_type("/styles"))

    sheets_elem = wb.find(ns + "sheets")
    if sheets_elem is None:
        raise ValueError(f"{wb_part}: no <sheets>")
    sheets: list[SheetXml] = []
    seen: set[str] = set()
    for sh in sheets_elem:
        if _local(sh.tag) != "sheet":
            continue
        name, rid = sh.get("name"), _rid(sh)
        if not name:
            raise ValueError(f"{wb_part}: a <sheet> without a name")
        if name.lower() in seen:
            raise ValueError(f"{wb_part}: sheet name {name!r} appears twice")
        seen.add(name.lower())
        if not rid:
            raise ValueError(f"{wb_part}: sheet {name!r} has no r:id")
        if rid not in rels:
            raise ValueError(
                f"{wb_part}: sheet {name!r} refers to {rid}, which is not in its relationships")
        target = rels[rid][1]
        if not pkg.has(target):
            raise ValueError(f"{target}: part of sheet {name!r} is missing from the package")
        state = sh.get("state") or "visible"
        sheets.append(_read_sheet(pkg, target, name, state, strings, locked_xfs, fast))

    names = dict(_defined_names(wb_part, pkg.read_xml_bytes(wb_part),
                                tuple(sheet.name for sheet in sheets)))

    prot = wb.find(ns + "workbookProtection")
    workbook_protection = dict(prot.attrib) if prot is not None else None

    vba_part = by_type("/vbaProject")
    if vba_part is None:
        for part, ctype in overrides.items():
            if ctype == _CT_VBA:
                vba_part = part.lstrip("/")
                break
    if vba_part is None and defaults.get("bin") == _CT_VBA:
        folder = posixpath.dirname(wb_part)
        guess = posixpath.join(folder, "vbaProject.bin")
        vba_part = guess if pkg.has(guess) else None
    vba = pkg.read(vba_part) if vba_part is not None and pkg.has(vba_part) else None

    return PackageXml(sheets=sheets, defined_names=names, workbook_protection=workbook_protection,
                      vba_project=vba, content_types=overrides)
