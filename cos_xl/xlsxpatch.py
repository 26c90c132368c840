"""Change single cells of an .xlsx/.xlsm package without an office program.

A regional workbook is filled by rewriting only the ``<c>`` elements of the cells that change,
in the sheet XML, and only the zip members that hold them (the sheets, the shared strings, the
workbook part). Every other member is copied as it is, compressed bytes included, so what a
validator compares is untouched. Texts go into the shared-strings table (as Excel and
LibreOffice write them), so the validator's fast reader takes the file as it takes theirs.

    book = XlsxPackage(data)
    book.set_cells({"Данные!D6": Constant(1_250_000), "Показатели!E6": Cached(87.5)})
    data = book.to_bytes()
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape as _xml_unescape

from cos_xl.errors import CosXlError
from cos_xl.template.layout import MANIFEST_PAYLOAD_CELL, SHEET_MANIFEST
from cos_xl.xlsxtext import cell_position, excel_unescape, split_address, xml_text

__all__ = ["ERROR_VALUE", "Cached", "Constant", "PatchError", "XlsxPackage", "replace_members"]


class PatchError(CosXlError):
    """The package cannot be patched (not a workbook of this generator, or a cell is missing)."""


@dataclass(frozen=True)
class ErrorValue:
    """An Excel error value, written as ``<c t="e"><v>#VALUE!</v></c>``."""

    text: str = "#VALUE!"


ERROR_VALUE = ErrorValue()


@dataclass(frozen=True)
class Constant:
    """The cell holds this value and no formula: a number (int/float), a text, or None (an
    empty cell). A formula the cell had is dropped (that is how "a formula pasted over with a
    number" is made)."""

    value: object


@dataclass(frozen=True)
class Cached:
    """The cell keeps its formula; this becomes the value cached with it: a number, a text,
    None (the formula gives ``""``) or :data:`ERROR_VALUE`."""

    value: object


# -- zip ------------------------------------------------------------------------------------------

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # signature … name length, extra length
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_DESCRIPTOR_SIG = b"PK\x07\x08"
_FLAG_ENCRYPTED, _FLAG_DESCRIPTOR = 0x1, 0x8


#: zlib level of the rewritten members: 1 deflates the ~150 KB of changed XML in ~1 ms against
#: ~4 ms at the default 6, for a file a few KB larger.
DEFLATE_LEVEL = 1


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def replace_members(data: bytes, replacements: Mapping[str, bytes],
                    additions: Mapping[str, bytes] | None = None) -> bytes:
    """The zip ``data`` with the named members' contents replaced, in the same order, with the
    same names, dates, attributes and compression method; the other members are copied byte
    for byte (compressed data included); ``additions`` (new member names) are appended,
    deflated. Raises PatchError for a zip it does not handle (no end-of-central-directory
    record, ZIP64, several disks, encrypted members) or a member added twice."""
    end = data.rfind(_END_SIG)
    if end < 0 or len(data) - end < _END.size:
        raise PatchError("not a zip package: no end of central directory")
    (_sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset,
     comment_len) = _END.unpack_from(data, end)
    if disk or cd_disk or n_disk != n_total or 0xFFFFFFFF in (cd_size, cd_offset):
        raise PatchError("multi-disk or ZIP64 packages are not handled")
    out = bytearray()
    central = bytearray()
    pos = cd_offset
    seen: set[str] = set()
    names: set[str] = set()
    for _ in range(n_total):
        fields = list(_CENTRAL.unpack_from(data, pos))
        if fields[0] != _CENTRAL_SIG:
            raise PatchError("broken central directory")
        flags, method, csize, usize = fields[3], fields[4], fields[8], fields[9]
        nlen, xlen, clen, offset = fields[10], fields[11], fields[12], fields[16]
        raw_name = data[pos + _CENTRAL.size: pos + _CENTRAL.size + nlen]
        entry_end = pos + _CENTRAL.size + nlen + xlen + clen
        tail = data[pos + _CENTRAL.size: entry_end]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        names.add(name)
        if flags & _FLAG_ENCRYPTED or 0xFFFFFFFF in (csize, usize, offset):
            raise PatchError(f"{name}: encrypted or ZIP64 member")
        local = list(_LOCAL.unpack_from(data, offset))
        if local[0] != _LOCAL_SIG:
            raise PatchError(f"{name}: broken local header")
        header_end = offset + _LOCAL.size + local[9] + local[10]
        new_offset = len(out)
        if name in replacements:
            content = bytes(replacements[name])
            if method == zipfile.ZIP_DEFLATED:
                packed = _deflate(content)
            elif method == zipfile.ZIP_STORED:
                packed = content
            else:
                raise PatchError(f"{name}: compression method {method} is not handled")
            crc = zlib.crc32(content)
            flags &= ~_FLAG_DESCRIPTOR
            local[2], local[6], local[7], local[8] = flags, crc, len(packed), len(content)
            out += _LOCAL.pack(*local) + data[offset + _LOCAL.size: header_end] + packed
            fields[3], fields[7], fields[8], fields[9] = flags, crc, len(packed), len(content)
            seen.add(name)
        else:
            stop = header_end + csize
            if flags & _FLAG_DESCRIPTOR:
                stop += 16 if data[stop: stop + 4] == _DESCRIPTOR_SIG else 12
            out += data[offset:stop]
        fields[16] = new_offset
        central += _CENTRAL.pack(*fields) + tail
        pos = entry_end
    missing = set(replacements) - seen
    if missing:
        raise PatchError(f"no such member in the package: {', '.join(sorted(missing))}")
    count = n_total
    for name, content in (additions or {}).items():
        if name in names:
            raise PatchError(f"{name}: already in the package")
        content = bytes(content)
        raw, packed, crc = name.encode("utf-8"), _deflate(content), zlib.crc32(content)
        flags, time_, date = 0x800, 0, (1980 - 1980) << 9 | 1 << 5 | 1
        offset = len(out)
        out += _LOCAL.pack(_LOCAL_SIG, 20, flags, zipfile.ZIP_DEFLATED, time_, date, crc,
                           len(packed), len(content), len(raw), 0) + raw + packed
        central += _CENTRAL.pack(_CENTRAL_SIG, 20, 20, flags, zipfile.ZIP_DEFLATED, time_, date,
                                 crc, len(packed), len(content), len(raw), 0, 0, 0, 0, 0,
                                 offset) + raw
        count += 1
    cd_start = len(out)
    out += central
    out += _END.pack(_END_SIG, 0, 0, count, count, len(central), cd_start, comment_len)
    out += data[end + _END.size: end + _END.size + comment_len]
    return bytes(out)


# -- XML text -------------------------------------------------------------------------------------

def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PatchError(f"not a number: {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PatchError(f"cannot write a non-finite number {value!r}")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


# -- the package ----------------------------------------------------------------------------------
# Sheets are handled as UTF-8 bytes: a bytes search is several times faster than one in a str
# holding Cyrillic text, and cell references, tags and attributes are ASCII.

_REL = re.compile(r"<Relationship\b([^>]*?)/?>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_SHEET = re.compile(r"<sheet\b([^>]*?)/?>")
_CELL_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_STYLE_ONLY = re.compile(rb' s="([0-9]+)"(?: t="[A-Za-z]+")?')  # as XlsxWriter writes
_V_INDEX = re.compile(rb"<v>([0-9]+)</v>")
_T = re.compile(r"<t(?:\s[^>]*)?>(.*?)</t>|<t/>", re.DOTALL)
_SST_OPEN = re.compile(r"<sst\b[^>]*>")
_CALC_PR = re.compile(r"<calcPr\b([^>]*?)(/?)>")
_REL_OFFICE_DOCUMENT = "/officeDocument"
_REL_SHARED_STRINGS = "/sharedStrings"


def _attrs(text: str) -> dict[str, str]:
    return dict(_ATTR.findall(text))


@dataclass(frozen=True)
class _Cell:
    start: int
    end: int
    attrs: bytes  # the attributes after r="…"
    body: bytes | None  # between <c …> and </c>; None for <c …/>


class _Sheet:
    """The XML of one worksheet."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml

    def cell(self, ref: str, start: int = 0) -> _Cell | None:
        """The ``<c>`` element of ``ref``, found by bytes searches (a regular expression over
        the long formulas of the check sheet is several times slower). The search starts at
        ``start`` (cells are written in row-major order, so a caller going through cells in
        that order passes the end of the previous one), then from the top."""
        xml = self.xml
        needle = b'<c r="' + ref.encode("ascii") + b'"'
        for begin in ((start, 0) if start else (0,)):
            pos = xml.find(needle, begin)
            if pos < 0:
                continue
            tag_end = xml.find(b">", pos)
            if tag_end < 0:
                return None
            attrs_start = pos + len(needle)
            if xml[tag_end - 1: tag_end] == b"/":
                return _Cell(pos, tag_end + 1, xml[attrs_start: tag_end - 1], None)
            close = xml.find(b"</c>", tag_end)
            if close < 0:
                return None
            return _Cell(pos, close + 4, xml[attrs_start: tag_end], xml[tag_end + 1: close])
        return None


def _formula(body: bytes | None) -> bytes | None:
    """The ``<f …>…</f>`` or ``<f …/>`` element of a cell body."""
    if not body:
        return None
    start = body.find(b"<f")
    if start < 0 or body[start + 2: start + 3] not in (b">", b" ", b"/"):
        return None
    tag_end = body.find(b">", start)
    if body[tag_end - 1: tag_end] == b"/":
        return body[start: tag_end + 1]
    close = body.find(b"</f>", tag_end)
    return body[start: close + 4] if close >= 0 else None


class XlsxPackage:
    """An .xlsx/.xlsm package in memory whose cells can be set; :meth:`to_bytes` gives the
    package back with only the changed members rewritten."""

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(self.data))
        except zipfile.BadZipFile as exc:
            raise PatchError(f"not a zip package: {exc}") from exc
        self._texts: dict[str, str] = {}  # XML parts other than sheets, as text
        self._sheets: dict[str, _Sheet] = {}  # by part name
        self._changed: set[str] = set()
        self.workbook_part = self._office_document()
        self.sheet_parts: dict[str, str] = {}
        rels = self._rels(self.workbook_part)
        for match in _SHEET.finditer(self._text(self.workbook_part)):
            attrs = _attrs(match.group(1))
            rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
            if rid in rels:
                self.sheet_parts[_xml_unescape(attrs.get("name", ""))] = rels[rid][1]
        self.shared_strings_part = next(
            (target for rtype, target in rels.values() if rtype.endswith(_REL_SHARED_STRINGS)),
            None)
        self._sst: bytes | None = None  # the shared-strings part as read
        self._string_count: int | None = None
        self._string_index: dict[str, int] = {}
        self._new_strings: list[str] = []
        self._new_string_cells = 0

    # reading
    def _read(self, part: str) -> bytes:
        try:
            return self._zip.read(part)
        except KeyError:
            raise PatchError(f"{part}: part is missing from the package") from None

    def _text(self, part: str) -> str:
        if part not in self._texts:
            self._texts[part] = self._read(part).decode("utf-8")
        return self._texts[part]

    def _sheet(self, name: str) -> _Sheet:
        try:
            part = self.sheet_parts[name]
        except KeyError:
            raise PatchError(f"no sheet {name!r} in the workbook") from None
        if part not in self._sheets:
            self._sheets[part] = _Sheet(self._read(part))
        return self._sheets[part]

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        folder, base = posixpath.split(part)
        name = posixpath.join(folder, "_rels", base + ".rels")
        out = {}
        for match in _REL.finditer(self._text(name)):
            attrs = _attrs(match.group(1))
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            out[attrs.get("Id", "")] = (attrs.get("Type", ""), path)
        return out

    def _office_document(self) -> str:
        for rtype, target in self._rels("").values():
            if rtype.endswith(_REL_OFFICE_DOCUMENT):
                return target
        raise PatchError("_rels/.rels: no workbook part")

    def _shared_strings(self) -> bytes:
        if self._sst is None:
            self._sst = self._read(self.shared_strings_part) if self.shared_strings_part else b""
        return self._sst

    def _string_at(self, index: int) -> str:
        xml = self._shared_strings()
        pos = xml.find(b"<sst")
        for _ in range(index + 1):
            pos = xml.find(b"<si", pos + 1)
            if pos < 0:
                raise PatchError(f"shared string {index} does not exist")
        end = xml.find(b"</si>", pos)
        body = xml[pos: end].decode("utf-8") if end >= 0 else ""
        text = "".join(t or "" for t in _T.findall(body.split("<rPh", 1)[0]))
        return excel_unescape(_xml_unescape(text))

    def cell_text(self, address: str) -> str | None:
        """The text of a cell holding a shared or inline string (None otherwise)."""
        sheet, ref = split_address(address)
        match = self._sheet(sheet).cell(ref)
        if match is None or match.body is None:
            return None
        kind = dict(_CELL_ATTR.findall(match.attrs)).get(b"t")
        body = match.body
        if kind == b"s":
            value = _V_INDEX.search(body)
            return self._string_at(int(value.group(1))) if value else None
        if kind == b"inlineStr":
            text = "".join(t or "" for t in _T.findall(body.decode("utf-8")))
            return excel_unescape(_xml_unescape(text))
        return None

    def manifest_text(self) -> str:
        text = self.cell_text(f"{SHEET_MANIFEST}!{MANIFEST_PAYLOAD_CELL}")
        if not text:
            raise PatchError("the workbook has no manifest (not a cos-xl template)")
        return text

    # writing
    def _string(self, text: str) -> int:
        """Index of ``text`` in the shared strings: the existing item, else a new one."""
        if self.shared_strings_part is None:
            raise PatchError("the workbook has no shared-strings part")
        self._new_string_cells += 1
        index = self._string_index.get(text)
        if index is None:
            xml = self._shared_strings()
            if self._string_count is None:
                self._string_count = xml.count(b"<si")
            escaped = xml_text(text).encode("utf-8")
            found = xml.find(b"<si><t>" + escaped + b"</t></si>")
            if found < 0:
                found = xml.find(b'<si><t xml:space="preserve">' + escaped + b"</t></si>")
            if found >= 0:
                index = xml.count(b"<si", 0, found)
            else:
                index = self._string_count + len(self._new_strings)
                self._new_strings.append(text)
            self._string_index[text] = index
        return index

    def _cell_xml(self, ref: str, attrs: bytes, body: bytes | None,
                  change: Constant | Cached) -> bytes:
        style = _STYLE_ONLY.fullmatch(attrs)
        parsed = ([(b"s", style.group(1))] if style else
                  [(k, v) for k, v in _CELL_ATTR.findall(attrs) if k != b"t"])
        if b' t="s"' in attrs:
            self._new_string_cells -= 1  # the shared string it held is no longer used here
        formula = b""
        if isinstance(change, Cached):
            found = _formula(body)
            if found is None:
                raise PatchError(f"cell {ref} has no formula to cache a value for")
            formula = found
        value = change.value
        if value is None:
            kind, inner = ("", "") if isinstance(change, Constant) else ("str", "<v></v>")
        elif isinstance(value, ErrorValue):
            kind, inner = "e", f"<v>{xml_text(value.text)}</v>"
        elif isinstance(value, str):
            if isinstance(change, Cached):
                kind, inner = "str", f"<v>{xml_text(value)}</v>"
            else:
                kind, inner = "s", f"<v>{self._string(value)}</v>"
        else:
            kind, inner = "", f"<v>{_number(value)}</v>"
        # r, s, t first (the order Excel, XlsxWriter and LibreOffice write), then the rest
        out = [b'<c r="', ref.encode("ascii"), b'"']
        out += [b" %s=\"%s\"" % (k, v) for k, v in parsed if k == b"s"]
        if kind:
            out.append(f' t="{kind}"'.encode("ascii"))
        out += [b" %s=\"%s\"" % (k, v) for k, v in parsed if k != b"s"]
        content = formula + inner.encode("utf-8")
        out.append(b">" + content + b"</c>" if content else b"/>")
        return b"".join(out)

    def set_cells(self, changes: Mapping[str, Constant | Cached]) -> None:
        """Apply changes keyed by ``Sheet!A1`` addresses. Every cell must already be in the
        sheet XML (a generated template writes every input and explanation cell, styled)."""
        by_sheet: dict[str, dict[str, Constant | Cached]] = {}
        for address, change in changes.items():
            sheet, ref = split_address(address)
            by_sheet.setdefault(sheet, {})[ref] = change
        for name, cells in by_sheet.items():
            sheet = self._sheet(name)
            spans = []
            pos = 0
            for ref in sorted(cells, key=cell_position):
                match = sheet.cell(ref, pos)
                if match is None:
                    raise PatchError(f"{name}!{ref}: the cell is not in the sheet XML")
                pos = match.end
                spans.append((match.start, match.end,
                              self._cell_xml(ref, match.attrs, match.body, cells[ref])))
            pieces, pos = [], 0
            for start, end, text in sorted(spans):
                pieces += [sheet.xml[pos:start], text]
                pos = end
            pieces.append(sheet.xml[pos:])
            self._sheets[self.sheet_parts[name]] = _Sheet(b"".join(pieces))
            self._changed.add(self.sheet_parts[name])

    def ensure_full_calc_on_load(self) -> None:
        """``<calcPr fullCalcOnLoad="1"/>``: an office program recalculates on open."""
        xml = self._text(self.workbook_part)
        match = _CALC_PR.search(xml)
        if match is not None:
            attrs = match.group(1)
            if re.search(r'\sfullCalcOnLoad="(1|true)"', attrs):
                return
            attrs = re.sub(r'\sfullCalcOnLoad="[^"]*"', "", attrs) + ' fullCalcOnLoad="1"'
            xml = xml[:match.start()] + f"<calcPr{attrs}{match.group(2)}>" + xml[match.end():]
        else:
            anchor = xml.find("</definedNames>")
            anchor = anchor + len("</definedNames>") if anchor >= 0 else \
                xml.find("</sheets>") + len("</sheets>")
            xml = xml[:anchor] + '<calcPr fullCalcOnLoad="1"/>' + xml[anchor:]
        self._texts[self.workbook_part] = xml
        self._changed.add(self.workbook_part)

    def _shared_strings_xml(self) -> str:
        xml = self._shared_strings().decode("utf-8")
        opening = _SST_OPEN.search(xml)
        attrs = opening.group(0)
        for name, add in (("count", self._new_string_cells),
                          ("uniqueCount", len(self._new_strings))):
            found = re.search(rf'\s{name}="([0-9]+)"', attrs)
            if found:
                attrs = attrs.replace(found.group(0), f' {name}="{int(found.group(1)) + add}"')
        items = "".join(
            f'<si><t xml:space="preserve">{xml_text(t)}</t></si>' if t != t.strip()
            else f"<si><t>{xml_text(t)}</t></si>" for t in self._new_strings)
        close = xml.rfind("</sst>")
        if close < 0:  # an empty table written as <sst …/>
            attrs = attrs.removesuffix("/>").rstrip() + ">"
            return xml[:opening.start()] + attrs + items + "</sst>" + xml[opening.end():]
        return xml[:opening.start()] + attrs + xml[opening.end():close] + items + xml[close:]

    def to_bytes(self) -> bytes:
        """The package with the changes; the input bytes when nothing changed."""
        parts: dict[str, bytes] = {}
        for part in self._changed:
            parts[part] = (self._sheets[part].xml if part in self._sheets
                           else self._texts[part].encode("utf-8"))
        if self._new_string_cells or self._new_strings:
            parts[self.shared_strings_part] = self._shared_strings_xml().encode("utf-8")
        if not parts:
            return self.data
        return replace_members(self.data, parts)
