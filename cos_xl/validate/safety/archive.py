"""ZIP archives, checked without extracting anything to disk.

* The central directory is bounded (entry count and directory size) before ``zipfile`` reads
  it; each entry's name (``..``, absolute paths, duplicates), flags (encryption), compression
  method, declared sizes and ratio are checked; then every entry is stream-inflated in 1 MiB
  pieces with a hard cap equal to its declared size, so a zip bomb or a lying header costs at
  most the declared (already bounded) total and never the memory to hold it; the CRC is
  checked; the local headers must match the central directory and the entries must not overlap
  (the "overlapping files" bomb).
* Each XML part (``.xml``/``.rels``/``.vml``/``.svg``, or any entry whose content starts like
  XML) must be UTF-8 and must carry no ``<!DOCTYPE`` or ``<!ENTITY`` declaration: the bytes are
  scanned (case-insensitively, across piece boundaries) and no XML parser runs, so entity
  expansion (billion laughs) or external entities (XXE) never happen here. A byte scan cannot
  see a declaration written in an encoding that is not ASCII-compatible (UTF-7, UTF-16...),
  which is why every XML part must be UTF-8 (or ASCII).
* Last, what the archive is: an Excel package (``xlsx``/``xlsm``), an ``.ods``, or another
  archive ("zip-other", a truncated or corrupt one included).
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding
from cos_xl.validate.safety.common import Broken, Kind, MiB, SafetyLimits, printable, size_text
from cos_xl.validate.safety.sniff import OLE_MAGIC

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_LOCAL = b"PK\x03\x04"
_CHUNK = 1 * MiB
_DTD_TAIL = len(b"<!DOCTYPE") - 1
_XML_DECL = re.compile(rb"^\s*<\?xml([^>]*)")  # up to the end of the declaration, however long
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([^\"']*)[\"']")
_UTF8_NAMES = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_XML_EXTS = (".xml", ".rels", ".vml", ".svg", ".xsd", ".xsl")
_ARCHIVE_EXTS = (".zip", ".rar", ".7z", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".cab", ".jar",
                 ".arj", ".xlsx", ".xlsm", ".docx", ".docm", ".pptx", ".ods", ".odt")
_EXEC_EXTS = (".exe", ".dll", ".scr", ".com", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js",
              ".jse", ".wsf", ".wsh", ".hta", ".lnk", ".msi", ".cpl", ".pif", ".sh")
_ARCHIVE_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"Rar!\x1a\x07",
                   b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"MSCF")
_EXEC_MAGICS = (b"MZ", b"\x7fELF", b"#!")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_MACRO_CT = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_REQUIRED = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")
_VBA_PROJECT = "xl/vbaProject.bin"


@dataclass
class _EndRecord:
    position: int  # of the end-of-central-directory record
    entries: int
    cd_size: int
    cd_offset: int
    cd_end: int  # where the central directory should end (the EOCD or the ZIP64 EOCD)
    end: int  # where the archive ends (after its comment)


def _end_record(f: BinaryIO, size: int) -> _EndRecord | None:
    """The end record as ``zipfile`` finds it (the last signature in the last 64 KiB)."""
    start = max(0, size - (1 << 16) - 22)
    f.seek(start)
    tail = f.read(size - start)
    pos = len(tail) - 22
    if not (pos >= 0 and tail[pos:pos + 4] == _EOCD and tail[-2:] == b"\x00\x00"):
        pos = tail.rfind(_EOCD)
    if pos < 0 or len(tail) - pos < 22:
        return None
    (_sig, _disk, _disk_cd, _n_disk, entries, cd_size, cd_offset,
     comment_len) = struct.unpack_from("<4s4H2LH", tail, pos)
    record = _EndRecord(start + pos, entries, cd_size, cd_offset, start + pos,
                        start + pos + 22 + comment_len)
    loc = pos - 20
    if loc >= 0 and tail[loc:loc + 4] == _EOCD64_LOCATOR:
        z64 = loc - 56
        if z64 >= 0 and tail[z64:z64 + 4] == _EOCD64:
            (_s, _sz, _cv, _rv, _dn, _dd, _n1, n2, cd_size64,
             cd_offset64) = struct.unpack_from("<4sQ2H2L4Q", tail, z64)
            record.entries, record.cd_size, record.cd_offset = n2, cd_size64, cd_offset64
            record.cd_end = start + z64
    return record


def _unexplained(gap: int, descriptor: bool) -> int:
    """Bytes between two records that no record explains (a data descriptor is 12-24 bytes)."""
    if gap <= 0 or (descriptor and gap in (12, 16, 20, 24)):
        return 0
    return gap


def _bad_name(name: str) -> bool:
    parts = re.split(r"[/\\]", name)
    return (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None
            or ".." in parts or "\x00" in name)


def _inflate(f: BinaryIO, start: int, csize: int, method: int, cap: int) -> Iterator[bytes]:
    """Yield the entry's data in pieces of at most 1 MiB; stop once more than ``cap`` bytes came
    out. Raises Broken for a broken deflate stream or missing bytes."""
    f.seek(start)
    remaining = csize
    produced = 0
    inflater = zlib.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
    while remaining > 0:
        raw = f.read(min(_CHUNK, remaining))
        if not raw:
            raise Broken("сжатые данные обрываются")
        remaining -= len(raw)
        if inflater is None:
            produced += len(raw)
            yield raw
            if produced > cap:
                return
            continue
        buf = raw
        while buf and not inflater.eof:
            out = inflater.decompress(buf, _CHUNK)
            buf = inflater.unconsumed_tail
            if out:
                produced += len(out)
                yield out
                if produced > cap:
                    return
        if inflater.eof:
            break
    if inflater is not None:
        while not inflater.eof:
            out = inflater.decompress(b"", _CHUNK)
            if not out:
                break
            produced += len(out)
            yield out
            if produced > cap:
                return
        if not inflater.eof:
            raise Broken("поток deflate не завершён")


class ZipCheck:
    """The checks of one ZIP archive; findings accumulate in ``findings``."""

    def __init__(self, f: BinaryIO, size: int, limits: SafetyLimits, findings: list[Finding]):
        self.f = f
        self.size = size
        self.limits = limits
        self.findings = findings
        self.collected: dict[str, bytes] = {}  # [Content_Types].xml and mimetype, first 1 MiB
        self.parts: dict[str, bytes] | None = {}  # every part unpacked, while all unpack
        self.starts: dict[int, int] = {}  # id(ZipInfo) -> offset of its data (ZipInfo has slots)

    def add(self, code: str, variant: str | None = None, /, **values: object) -> None:
        self.findings.append(finding(code, variant, **values))

    # -- the central directory --------------------------------------------------------------

    def run(self) -> Kind:
        record = _end_record(self.f, self.size)
        if record is None:
            self.add("zip-corrupt", "no_directory")
            return "zip-other"
        limits = self.limits
        cd_cap = limits.max_entries * limits.central_directory_per_entry
        if record.entries > limits.max_entries or record.cd_size > cd_cap:
            self.add("zip-too-many-entries", "directory", value=record.entries,
                     entries=record.entries, directory=size_text(record.cd_size),
                     limit=limits.max_entries, directory_limit=size_text(cd_cap))
            return "zip-other"
        if record.cd_offset + record.cd_size != record.cd_end:
            self.add("zip-corrupt", "directory_moved", offset=record.cd_offset)
        elif record.end < self.size:
            self.add("zip-hidden-data", "after_end", value=self.size - record.end)
        try:
            archive = zipfile.ZipFile(self.f)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError, struct.error, OverflowError, IndexError) as exc:
            self.add("zip-corrupt", "directory_unreadable", detail=exc)
            return "zip-other"
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            self.add("zip-too-many-entries", value=len(infos), entries=len(infos),
                     limit=limits.max_entries)
            return "zip-other"
        names = [info.orig_filename for info in infos]
        skip = self.check_entries(infos)
        self.check_layout(infos, skip, archive.start_dir)
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_uncompressed:
            self.add("zip-uncompressed-too-large", value=total, size=size_text(total),
                     limit=size_text(limits.max_total_uncompressed))
        else:
            for info in infos:
                if id(info) not in skip:
                    self.scan_entry(info)
                else:
                    self.parts = None
        if self.findings:
            self.parts = None  # keep only what a clean package gives the reader
        return self.kind(names)

    def check_entries(self, infos: list[zipfile.ZipInfo]) -> set[int]:
        """Checks of the central directory alone; the ids of entries not to unpack."""
        limits = self.limits
        skip: set[int] = set()
        seen: dict[str, str] = {}
        for info in infos:
            name = info.orig_filename
            label = printable(name)
            if _bad_name(name):
                self.add("zip-path-traversal", value=name, part=label)
                skip.add(id(info))
            key = name.replace("\\", "/").casefold()
            if key in seen:
                self.add("zip-duplicate-entry", value=name, part=label)
            seen[key] = name
            if info.flag_bits & 0x41:
                self.add("zip-encrypted-entry", value=name, part=label)
                skip.add(id(info))
            elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                self.add("zip-unsupported-compression", value=name, part=label,
                         method=info.compress_type)
                skip.add(id(info))
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_min_size and ratio > limits.max_ratio:
                self.add("zip-bomb", value=name, part=label, ratio=ratio,
                         packed=size_text(info.compress_size),
                         unpacked=size_text(info.file_size), max_ratio=limits.max_ratio,
                         min_size=size_text(limits.ratio_min_size))
                skip.add(id(info))
            if self.is_xml_name(name) and info.file_size > limits.max_xml_part_size:
                self.add("xml-too-large", value=name, part=label,
                         size=size_text(info.file_size),
                         limit=size_text(limits.max_xml_part_size))
                skip.add(id(info))
            lower = name.lower()
            if lower.endswith(_ARCHIVE_EXTS):
                self.nested(name)
            elif lower.endswith(_EXEC_EXTS):
                self.executable(name)
            elif lower.startswith("xl/embeddings/"):
                self.embedded(name)
        return skip

    def check_layout(self, infos: list[zipfile.ZipInfo], skip: set[int], cd_start: int) -> None:
        """Local headers match the central directory; entries neither overlap nor hide data."""
        spans: list[tuple[int, int, zipfile.ZipInfo]] = []
        broken = False
        for info in infos:
            try:
                start, end = self.data_span(info)
            except Broken as exc:
                self.add("zip-corrupt", "local_header", value=info.orig_filename,
                         part=printable(info.orig_filename), detail=exc)
                skip.add(id(info))
                broken = True
                continue
            self.starts[id(info)] = start
            spans.append((info.header_offset, end, info))
        spans.sort(key=lambda span: span[0])
        position = 0
        hidden = 0
        descriptor = False  # the previous entry may be followed by a data descriptor
        for start, end, info in spans:
            if start < position or end > cd_start:
                self.add("zip-overlapping-entries", value=info.orig_filename,
                         part=printable(info.orig_filename))
                skip.add(id(info))
                continue
            hidden += _unexplained(start - position, descriptor)
            position = end
            descriptor = bool(info.flag_bits & 0x08)
        if spans:
            hidden += _unexplained(cd_start - position, descriptor)
        if hidden and not broken:  # a broken entry's bytes are not "hidden": it is reported
            self.add("zip-hidden-data", value=hidden)

    def data_span(self, info: zipfile.ZipInfo) -> tuple[int, int]:
        """(start, end) of the entry's compressed data, from its local header."""
        if info.header_offset < 0 or info.header_offset + 30 > self.size:
            raise Broken("заголовок части за пределами файла")
        self.f.seek(info.header_offset)
        header = self.f.read(30)
        if len(header) != 30 or header[:4] != _LOCAL:
            raise Broken("нет локального заголовка части")
        flags = struct.unpack_from("<H", header, 6)[0]
        name_len, extra_len = struct.unpack_from("<HH", header, 26)
        raw_name = self.f.read(name_len)
        encoding = "utf-8" if flags & 0x800 else "cp437"
        try:
            local_name = raw_name.decode(encoding)
        except UnicodeDecodeError as exc:
            raise Broken("имя в локальном заголовке не читается") from exc
        if local_name != info.orig_filename:
            raise Broken(f"имя в локальном заголовке другое: «{printable(local_name)}»")
        start = info.header_offset + 30 + name_len + extra_len
        end = start + info.compress_size
        if end > self.size:
            raise Broken(f"данные части обрываются (нужно {size_text(info.compress_size)})")
        return start, end

    # -- the contents ---------------------------------------------------------------------

    @staticmethod
    def is_xml_name(name: str) -> bool:
        return name.lower().endswith(_XML_EXTS) or name == "[Content_Types].xml"

    def scan_entry(self, info: zipfile.ZipInfo) -> None:
        name = info.orig_filename
        label = printable(name)
        start = self.starts.get(id(info))
        if start is None:
            return
        declared = info.file_size
        produced = 0
        crc = 0
        first = True
        xml = self.is_xml_name(name)
        tail = b""
        doctype = False
        collect = name in ("[Content_Types].xml", "mimetype")
        collected = bytearray()
        pieces: list[bytes] | None = [] if self.parts is not None else None
        try:
            for piece in _inflate(self.f, start, info.compress_size, info.compress_type,
                                  declared):
                produced += len(piece)
                if pieces is not None:
                    pieces.append(piece)
                if produced > declared:
                    self.add("zip-size-mismatch", "larger", value=name, part=label,
                             declared=size_text(declared))
                    return
                crc = zlib.crc32(piece, crc)
                if first:
                    first = False
                    xml = self.check_head(name, piece, xml)
                if xml and not doctype:
                    window = tail + piece
                    # "<!" has no case; a workbook's parts have none, so upper() (case-insensitive
                    # at C speed, whatever the count of "<!") runs only on a part that has one
                    if b"<!" in window:
                        upper = window.upper()
                        doctype = b"<!DOCTYPE" in upper or b"<!ENTITY" in upper
                    tail = window[-_DTD_TAIL:]
                if collect and len(collected) < MiB:
                    collected += piece[:MiB - len(collected)]
        except (Broken, zlib.error) as exc:
            self.add("zip-corrupt", value=name, part=label, detail=exc)
            return
        if collect:
            self.collected[name] = bytes(collected)
        if pieces is not None and self.parts is not None:
            self.parts[name] = b"".join(pieces)
        if doctype:
            self.add("xml-doctype", value=name, part=label)
        if produced < declared:
            self.add("zip-size-mismatch", value=name, part=label, size=size_text(produced),
                     declared=size_text(declared))
        elif crc != info.CRC:
            self.add("zip-corrupt", "crc", value=name, part=label)

    def check_head(self, name: str, head: bytes, xml: bool) -> bool:
        """Checks of an entry's first bytes; returns whether to scan it as XML."""
        label = printable(name)
        lower = name.lower()
        stripped = head.lstrip(b" \t\r\n")
        if head.startswith(_ARCHIVE_MAGICS) and not lower.endswith(_ARCHIVE_EXTS):
            self.nested(name)
        elif head.startswith(_EXEC_MAGICS) and not lower.endswith(_EXEC_EXTS):
            self.executable(name)
        elif (head.startswith(OLE_MAGIC) and name != _VBA_PROJECT
              and not lower.startswith("xl/embeddings/")):
            self.embedded(name)
        utf16_like = head[:4].count(b"\x00") >= 1 and b"<" in head[:4]
        wide_bom = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE,
                                    codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE))
        ebcdic = head.startswith(b"\x4c\x6f\xa7\x94")
        xml = xml or stripped.startswith((b"<", codecs.BOM_UTF8 + b"<")) or (
            wide_bom or utf16_like or ebcdic)
        if not xml:
            return False
        encoding = None
        body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
        declaration = _XML_DECL.match(body)
        if declaration:
            match = _ENCODING.search(declaration.group(1))
            if match:
                encoding = match.group(1).strip().lower()[:40]
        if wide_bom or utf16_like or ebcdic or (encoding is not None
                                                and encoding not in _UTF8_NAMES):
            shown = encoding.decode("ascii", "replace") if encoding else "UTF-16/UTF-32/EBCDIC"
            self.add("xml-not-utf8", value=name, part=label, encoding=shown)
        return True

    def nested(self, name: str) -> None:
        self.add("zip-nested-archive", value=name, part=printable(name))

    def executable(self, name: str) -> None:
        self.add("zip-executable", value=name, part=printable(name))

    def embedded(self, name: str) -> None:
        self.add("ooxml-embedded-object", value=name, part=printable(name))

    # -- what the archive is ----------------------------------------------------------------

    def kind(self, names: list[str]) -> Kind:
        present = set(names)
        mimetype = self.collected.get("mimetype", b"").strip()
        if mimetype.startswith(b"application/vnd.oasis.opendocument."):
            if mimetype == ODS_MIME:
                # LibreOffice's own .ods keeps its Basic libraries as XML with a DOCTYPE: not
                # an attack on a reader that never parses an .ods, and not what to tell a
                # region that merely saved in the wrong format.
                self.findings[:] = [f for f in self.findings if f.code != "xml-doctype"]
                self.add("file-ods", value="ods")
                return "ods"
            what = printable(mimetype.decode("ascii", "replace"))
            self.add("ooxml-parts-missing", "opendocument", value="odf", what=what)
            return "zip-other"
        if "[Content_Types].xml" in present and "xl/workbook.xml" in present:
            missing = [part for part in _REQUIRED if part not in present]
            if missing:
                self.add("ooxml-parts-missing", value=missing, missing=", ".join(missing))
            content_types = self.collected.get("[Content_Types].xml", b"")
            macro = _MACRO_CT in content_types or _VBA_PROJECT in present
            return "xlsm" if macro else "xlsx"
        missing = [part for part in _REQUIRED if part not in present]
        if "word/document.xml" in present:
            what = "документ Word (.docx)"
        elif "ppt/presentation.xml" in present:
            what = "презентация PowerPoint (.pptx)"
        else:
            what = f"ZIP-архив из {len(present)} файлов"
        self.add("ooxml-parts-missing", "other_package", value=missing, what=what,
                 missing=", ".join(missing))
        return "zip-other"

