"""First layer of the validator: is a returned file safe to hand to a spreadsheet library?

Every returned file is treated as hostile. :func:`inspect_file` looks at the raw bytes BEFORE any
spreadsheet library parses them and says, as findings, what kind of file it really is (by
content, never by its extension) and whether it is safe to open:

* the size is taken with ``fstat`` before anything is read; a file over the limit is judged by its
  first 8 KiB only, so a 2 GB upload is never loaded;
* an OLE compound file (``D0 CF 11 E0 A1 B1 1A E1``) is told apart by the streams of its root
  storage: ``EncryptionInfo``/``EncryptedPackage`` is a password-protected (encrypted) workbook,
  ``Workbook``/``Book`` a legacy ``.xls``; only the header, the FAT sectors and the directory
  sectors it needs are read;
* a ZIP archive is checked without extracting anything to disk: its central directory is bounded
  (entry count and directory size) before ``zipfile`` reads it; each entry's name (``..``,
  absolute paths, duplicates), flags (encryption), compression method, declared sizes and ratio
  are checked; then every entry is stream-inflated in 1 MiB pieces with a hard cap equal to its
  declared size, so a zip bomb or a lying header costs at most the declared (already bounded)
  total and never the memory to hold it; the CRC is checked; the local headers must match the
  central directory and the entries must not overlap (the "overlapping files" bomb);
* each XML part (``.xml``/``.rels``/``.vml``/``.svg``, or any entry whose content starts like
  XML) must be UTF-8 and must carry no ``<!DOCTYPE`` or ``<!ENTITY`` declaration: the bytes are
  scanned (case-insensitively, across piece boundaries) and no XML parser runs, so entity
  expansion (billion laughs) or external entities (XXE) never happen here;
* text files are told apart as HTML (Excel's "web page" and ``.xls``-named HTML) or CSV.

Limits (:class:`SafetyLimits`) and why the defaults. Measured on the generated templates: 60 KB
(``.xlsm``, 17 parts) and 31 KB (``.xlsx``, 16 parts), 227 KB and 189 KB unpacked, the largest
part 65 KB, per-part compression 1.4:1 to 8.6:1 (whole archive 3.9:1 and 6.4:1); the same forms
filled and saved by LibreOffice: at most 82 KB for one part and 10.2:1. The defaults — 20 MiB
file, 200 parts, 100 MiB unpacked, 10 MiB per XML part, 100:1 for parts over 1 MiB — leave two
orders of magnitude for what office programs add when they save a filled form (calcChain,
printer settings, a thumbnail) and still bound time (well under 1 s) and memory (a few MiB). The
ratio is checked only for parts over 1 MiB unpacked: a small part costs little whatever its
ratio, and small, very repetitive XML (rows of empty styled cells) can pass 100:1 honestly; the
total and per-XML-part limits bound the rest.

``kind`` is what the content is: for a file over the size limit only its first 8 KiB are looked
at (so a ZIP or OLE file over the limit is "unknown"); "zip-other" is a ZIP archive that is not,
or can no longer be read as, a workbook (a truncated or corrupt one included).

Not judged here (later layers or nobody): what the VBA project, formulas, external links, ActiveX
controls or embedded objects do (they are only reported as present); XInclude or schema
references inside XML (no parser here resolves them); whether a well-formed part is a valid
SpreadsheetML part. A byte scan cannot see a declaration written in an encoding that is not
ASCII-compatible (UTF-7, UTF-16...), which is why every XML part must be UTF-8 (or ASCII).

Nothing here writes to disk, and no exception escapes :func:`inspect_file` for any content: a bad
file is a finding. Codes and Russian titles are listed in :data:`SAFETY_CODES`.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Literal

from cos_xl.findings import Finding

KiB = 1024
MiB = 1024 * KiB

Kind = Literal["xlsx", "xlsm", "encrypted", "xls", "ods", "csv", "html", "empty", "unknown",
               "zip-other"]

#: code -> (severity, Russian title). Stable: the documentation lists them.
SAFETY_CODES: dict[str, tuple[str, str]] = {
    "file-unreadable": ("error", "Файл не удалось прочитать"),
    "file-empty": ("error", "Файл пустой"),
    "file-too-large": ("error", "Файл слишком большой"),
    "file-not-zip": ("error", "Файл не является книгой Excel"),
    "file-encrypted": ("error", "Книга защищена паролем на открытие"),
    "file-legacy-xls": ("error", "Книга в старом формате Excel 97–2003 (.xls)"),
    "file-ods": ("error", "Таблица OpenDocument (.ods) вместо книги Excel"),
    "file-csv": ("error", "Текстовый файл (CSV) вместо книги Excel"),
    "file-html": ("error", "Веб-страница (HTML) вместо книги Excel"),
    "file-extension-mismatch": ("warning", "Расширение имени файла не соответствует содержимому"),
    "zip-corrupt": ("error", "Архив книги повреждён или обрезан"),
    "zip-too-many-entries": ("error", "Слишком много частей в архиве книги"),
    "zip-uncompressed-too-large": ("error", "Слишком большой объём книги после распаковки"),
    "zip-bomb": ("error", "Подозрение на ZIP-бомбу: чрезмерная степень сжатия"),
    "zip-size-mismatch": ("error", "Размер части архива не совпадает с заявленным"),
    "zip-overlapping-entries": ("error", "Части архива перекрываются"),
    "zip-hidden-data": ("warning", "Посторонние данные в архиве книги"),
    "zip-path-traversal": ("error", "Недопустимый путь части архива (выход за пределы папки)"),
    "zip-duplicate-entry": ("error", "Повторяющееся имя части архива"),
    "zip-encrypted-entry": ("error", "Зашифрованная часть архива"),
    "zip-unsupported-compression": ("error", "Неподдерживаемый метод сжатия части архива"),
    "zip-nested-archive": ("error", "Вложенный архив внутри книги"),
    "zip-executable": ("error", "Исполняемый файл или сценарий внутри книги"),
    "ooxml-embedded-object": ("warning", "Внедрённый объект OLE в книге"),
    "ooxml-parts-missing": ("error", "Нет обязательных частей книги Excel"),
    "xml-doctype": ("error", "Объявление DOCTYPE/ENTITY в XML (XXE, «billion laughs»)"),
    "xml-not-utf8": ("error", "XML-часть книги не в кодировке UTF-8"),
    "xml-too-large": ("error", "Слишком большая XML-часть книги"),
}


@dataclass(frozen=True)
class SafetyLimits:
    """Hard limits of the safety layer (see the module docstring for the reasoning)."""

    max_file_size: int = 20 * MiB
    max_entries: int = 200
    max_total_uncompressed: int = 100 * MiB
    max_ratio: float = 100.0  # uncompressed : compressed, per part ...
    ratio_min_size: int = 1 * MiB  # ... checked only for parts larger than this unpacked
    max_xml_part_size: int = 10 * MiB
    #: bytes of central directory allowed per permitted entry (a real record is ~100 bytes);
    #: bounds what ``zipfile`` parses before the entry count can be checked.
    central_directory_per_entry: int = 1 * KiB


@dataclass(frozen=True)
class SafetyReport:
    """What the safety layer found: the kind of file by its content, and findings."""

    path: Path
    kind: Kind
    size: int
    findings: list[Finding] = field(default_factory=list)
    # The unpacked parts of a ZIP package (name -> bytes), kept when every part was unpacked and
    # checked, so that the reader need not unpack them a second time; None otherwise.
    parts: dict[str, bytes] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """No error finding: the file may be handed to a spreadsheet library."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]


# ---------------------------------------------------------------------------------------------
# messages

_RESEND = ("Откройте полученный шаблон в Microsoft Excel (или другом табличном редакторе), "
           "заполните его и сохраните в том же формате, в котором он был разослан "
           "(.xlsm или .xlsx), затем отправьте файл снова.")
_REJECTED = "Файл не обрабатывается из соображений безопасности. "
# For a file saved in another format: how to save it as the workbook it should be.
_SAVE_AS = ("Откройте полученный шаблон (или этот файл) и сохраните его как «Книга Excel "
            "(.xlsx/.xlsm)»: в Excel — «Файл → Сохранить как», тип «Книга Excel с поддержкой "
            "макросов (*.xlsm)» или «Книга Excel (*.xlsx)»; в LibreOffice — «Файл → Сохранить "
            "как», тип «Excel 2007–365»; затем отправьте файл снова.")


def _size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} МБ".replace(".", ",")
    if n >= KiB:
        return f"{n / KiB:.1f} КБ".replace(".", ",")
    return f"{n} байт"


@lru_cache(maxsize=1024)
def _shown(name: str, limit: int = 120) -> str:
    """A name from the file as it may appear in a message: control characters escaped, cut."""
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name[:limit])
    return text + ("…" if len(name) > limit else "")


def _finding(code: str, message: str, value: object = None) -> Finding:
    return Finding(code, SAFETY_CODES[code][0], message, value=value)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# sniffing by content

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_HEAD = 8 * KiB

#: other formats told by their first bytes, for the message only
_BINARY_LABELS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "документ PDF"),
    (b"\x89PNG\r\n\x1a\n", "изображение PNG"),
    (b"\xff\xd8\xff", "изображение JPEG"),
    (b"GIF8", "изображение GIF"),
    (b"BM", "изображение BMP"),
    (b"Rar!\x1a\x07", "архив RAR"),
    (b"7z\xbc\xaf\x27\x1c", "архив 7-Zip"),
    (b"\x1f\x8b", "архив gzip"),
    (b"BZh", "архив bzip2"),
    (b"\xfd7zXZ\x00", "архив xz"),
    (b"MSCF", "архив CAB"),
    (b"MZ", "исполняемый файл Windows"),
    (b"\x7fELF", "исполняемый файл ELF"),
    (b"PK\x07\x08", "многотомный ZIP-архив"),
)

#: what a name's extension says the content should be
_EXPECTED_BY_EXT: dict[str, tuple[str, ...]] = {
    ".xlsx": ("xlsx", "encrypted"),
    ".xlsm": ("xlsm", "encrypted"),
    ".xltx": ("xlsx", "encrypted"),
    ".xltm": ("xlsm", "encrypted"),
    ".xls": ("xls",),
    ".ods": ("ods",),
    ".csv": ("csv",),
    ".txt": ("csv",),
    ".htm": ("html",),
    ".html": ("html",),
    ".mht": ("html",),
    ".mhtml": ("html",),
}

_KIND_RU = {
    "xlsx": "книга Excel без макросов (.xlsx)",
    "xlsm": "книга Excel с макросами (.xlsm)",
    "encrypted": "зашифрованная книга Excel",
    "xls": "книга Excel 97–2003 (.xls)",
    "ods": "таблица OpenDocument (.ods)",
    "csv": "текст CSV",
    "html": "веб-страница HTML",
}


def _decode_text(head: bytes) -> str | None:
    """The head as text, or None when it looks binary."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="replace")
    else:
        if b"\x00" in head:
            return None
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            text = head.decode("cp1251", errors="replace")
    if not text:
        return None
    bad = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n\f\x1a") or ch == "\ufffd")
    return None if bad > max(2, len(text) // 50) else text


def _sniff_text(head: bytes) -> tuple[Kind, str] | None:
    """('html' | 'csv' | 'unknown', label) for text content; None for binary."""
    text = _decode_text(head)
    if text is None:
        return None
    t = text.lstrip("\ufeff \t\r\n").lower()
    html_starts = ("<!doctype html", "<html", "<head", "<body", "<table", "<meta", "<style")
    if t.startswith(html_starts) or "<html" in t[:4096] or (
            t.startswith("mime-version:") and "text/html" in t):
        return "html", "веб-страница HTML"
    if t.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in t:
        return "unknown", "таблица «XML 2003» (SpreadsheetML)"
    if t.startswith("{\\rtf"):
        return "unknown", "документ RTF"
    if t.startswith("<"):
        return "unknown", "XML- или HTML-текст"
    lines = [line for line in t.splitlines() if line.strip()][:20]
    if lines and any(sep in lines[0] for sep in ";,\t|"):
        return "csv", "текст CSV"
    return "unknown", "обычный текст"


def _binary_label(head: bytes) -> str | None:
    for magic, label in _BINARY_LABELS:
        if head.startswith(magic):
            return label
    return None


# ---------------------------------------------------------------------------------------------
# OLE compound files (only the directory of the root storage is read)

class _Bad(Exception):
    """Internal: the structure being read is broken."""


_FREE_LIMIT = 0xFFFFFFFA  # sector numbers >= this are special (end of chain, free, ...)
#: bounds of the walk: a 20 MiB file needs at most 3 DIFAT sectors; the directory of an
#: encrypted workbook or an .xls has a handful of entries (256 sectors hold 1024-8192)
_CFB_MAX_DIFAT = 64
_CFB_MAX_DIRECTORY = 256


def _cfb_root_streams(f: BinaryIO, size: int) -> set[str]:
    """Names (casefolded) of the streams and storages directly in the root storage."""
    f.seek(0)
    header = f.read(512)
    if len(header) < 512:
        raise _Bad("short header")
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        raise _Bad("sector size")
    ssize = 1 << shift
    per_sector = ssize // 4
    n_sectors = max(0, (size - ssize) // ssize)
    n_fat, dir_start = struct.unpack_from("<II", header, 0x2C)
    difat_start, n_difat = struct.unpack_from("<II", header, 0x44)
    fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _FREE_LIMIT]

    def sector(number: int) -> bytes:
        if number >= n_sectors:
            raise _Bad("sector beyond the end")
        f.seek((number + 1) * ssize)
        data = f.read(ssize)
        if len(data) != ssize:
            raise _Bad("short sector")
        return data

    guard = 0
    number = difat_start
    while (number < _FREE_LIMIT and guard < min(n_difat, n_sectors, _CFB_MAX_DIFAT)
           and len(fat_sectors) < n_fat):
        values = struct.unpack(f"<{per_sector}I", sector(number))
        fat_sectors.extend(s for s in values[:-1] if s < _FREE_LIMIT)
        number = values[-1]
        guard += 1
    fat_cache: dict[int, tuple[int, ...]] = {}

    def next_sector(number: int) -> int:
        index, offset = divmod(number, per_sector)
        if index >= len(fat_sectors):
            raise _Bad("FAT too short")
        if index not in fat_cache:
            fat_cache[index] = struct.unpack(f"<{per_sector}I", sector(fat_sectors[index]))
        return fat_cache[index][offset]

    entries: list[tuple[str, int, int, int, int]] = []
    seen: set[int] = set()
    number = dir_start
    while number < _FREE_LIMIT:
        if number in seen or len(seen) >= _CFB_MAX_DIRECTORY:
            break  # a cycle or an absurd directory: what was read is enough
        seen.add(number)
        data = sector(number)
        for pos in range(0, ssize, 128):
            raw = data[pos:pos + 128]
            name_len = struct.unpack_from("<H", raw, 0x40)[0]
            kind = raw[0x42]
            left, right, child = struct.unpack_from("<III", raw, 0x44)
            name = raw[:max(0, min(name_len, 64) - 2)].decode("utf-16-le", errors="replace")
            entries.append((name, kind, left, right, child))
        number = next_sector(number)
    if not entries or entries[0][1] != 5:
        raise _Bad("no root entry")
    names: set[str] = set()
    stack = [entries[0][4]]
    visited: set[int] = set()
    while stack:
        index = stack.pop()
        if index >= len(entries) or index in visited:
            continue
        visited.add(index)
        name, kind, left, right, _child = entries[index]
        if kind in (1, 2):
            names.add(name.casefold())
        stack.extend((left, right))
    return names


def _inspect_ole(f: BinaryIO, size: int, findings: list[Finding]) -> Kind:
    try:
        names = _cfb_root_streams(f, size)
    except (_Bad, struct.error) as exc:
        findings.append(_finding(
            "file-not-zip",
            f"Файл — повреждённый составной документ OLE (формат Office 97–2003, {exc}); это не "
            f"книга Excel, которую можно проверить. " + _RESEND, "ole"))
        return "unknown"
    if {"encryptioninfo", "encryptedpackage"} & names:
        findings.append(_finding(
            "file-encrypted",
            "Книга зашифрована паролем на открытие, поэтому её невозможно проверить. Снимите "
            "пароль: в Excel «Файл → Сведения → Защита книги → Зашифровать с использованием "
            "пароля», очистите поле пароля, нажмите «ОК», сохраните книгу и отправьте её снова. "
            "Защита листов шаблона паролем на открытие не является — её снимать не нужно.",
            "encrypted"))
        return "encrypted"
    if {"workbook", "book"} & names:
        findings.append(_finding(
            "file-legacy-xls",
            "Книга сохранена в старом формате Excel 97–2003 (.xls), в котором теряются защита, "
            "проверки и подпись шаблона. " + _SAVE_AS, "xls"))
        return "xls"
    what = "документ Word 97–2003" if "worddocument" in names else "составной документ OLE"
    findings.append(_finding(
        "file-not-zip",
        f"Файл — {what}, а не книга Excel (потоки: {', '.join(sorted(names)[:8]) or 'нет'}). "
        + _RESEND, "ole"))
    return "unknown"


# ---------------------------------------------------------------------------------------------
# ZIP archives

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
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
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
    out. Raises _Bad for a broken deflate stream or missing bytes."""
    f.seek(start)
    remaining = csize
    produced = 0
    inflater = zlib.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
    while remaining > 0:
        raw = f.read(min(_CHUNK, remaining))
        if not raw:
            raise _Bad("сжатые данные обрываются")
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
            raise _Bad("поток deflate не завершён")


class _ZipCheck:
    """The checks of one ZIP archive; findings accumulate in ``findings``."""

    def __init__(self, f: BinaryIO, size: int, limits: SafetyLimits, findings: list[Finding]):
        self.f = f
        self.size = size
        self.limits = limits
        self.findings = findings
        self.collected: dict[str, bytes] = {}  # [Content_Types].xml and mimetype, first 1 MiB
        self.parts: dict[str, bytes] | None = {}  # every part unpacked, while all unpack
        self.starts: dict[int, int] = {}  # id(ZipInfo) -> offset of its data (ZipInfo has slots)

    def add(self, code: str, message: str, value: object = None) -> None:
        self.findings.append(_finding(code, message, value))

    def corrupt(self, detail: str, value: object = None) -> None:
        self.add("zip-corrupt", f"Архив книги повреждён: {detail}. Возможно, файл обрезан при "
                 f"передаче. " + _RESEND, value)

    # -- the central directory --------------------------------------------------------------

    def run(self) -> Kind:
        record = _end_record(self.f, self.size)
        if record is None:
            self.corrupt("не найдено оглавление архива (центральный каталог) в конце файла")
            return "zip-other"
        limits = self.limits
        cd_cap = limits.max_entries * limits.central_directory_per_entry
        if record.entries > limits.max_entries or record.cd_size > cd_cap:
            self.add("zip-too-many-entries",
                     f"{_REJECTED}В архиве книги {record.entries} частей, оглавление "
                     f"{_size(record.cd_size)}; допускается не более {limits.max_entries} частей "
                     f"и {_size(cd_cap)} оглавления (в шаблоне 16–17 частей). " + _RESEND,
                     record.entries)
            return "zip-other"
        if record.cd_offset + record.cd_size != record.cd_end:
            self.corrupt(f"оглавление архива указывает на смещение {record.cd_offset}, а "
                         f"находится в другом месте (перед архивом есть посторонние данные?)")
        elif record.end < self.size:
            self.add("zip-hidden-data",
                     f"После конца архива книги в файле есть ещё {self.size - record.end} байт "
                     f"посторонних данных. " + _RESEND, self.size - record.end)
        try:
            archive = zipfile.ZipFile(self.f)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError, struct.error, OverflowError, IndexError) as exc:
            self.corrupt(f"оглавление архива не читается ({exc})")
            return "zip-other"
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            self.add("zip-too-many-entries",
                     f"{_REJECTED}В архиве книги {len(infos)} частей, допускается не более "
                     f"{limits.max_entries} (в шаблоне 16–17 частей). " + _RESEND, len(infos))
            return "zip-other"
        names = [info.orig_filename for info in infos]
        skip = self.check_entries(infos)
        self.check_layout(infos, skip, archive.start_dir)
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_uncompressed:
            self.add("zip-uncompressed-too-large",
                     f"{_REJECTED}После распаковки книга заняла бы {_size(total)}, допускается не "
                     f"более {_size(limits.max_total_uncompressed)} (заполненный шаблон занимает "
                     f"около 200 КБ). " + _RESEND, total)
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
            label = _shown(name)
            if _bad_name(name):
                self.add("zip-path-traversal",
                         f"{_REJECTED}Часть архива «{label}» имеет абсолютный путь, выходит за "
                         f"пределы папки («..») или содержит нулевой символ: так устроены атаки "
                         f"при распаковке. " + _RESEND, name)
                skip.add(id(info))
            key = name.replace("\\", "/").casefold()
            if key in seen:
                self.add("zip-duplicate-entry",
                         f"{_REJECTED}Часть «{label}» встречается в архиве книги больше одного "
                         f"раза (имена частей не различаются по регистру): разные программы "
                         f"прочли бы разное содержимое. " + _RESEND, name)
            seen[key] = name
            if info.flag_bits & 0x41:
                self.add("zip-encrypted-entry",
                         f"Часть архива «{label}» зашифрована (флаг шифрования ZIP), проверить её "
                         f"невозможно. Книга Excel не шифрует части архива; если файл "
                         f"упаковывали архиватором с паролем — отправьте сам файл книги. "
                         + _RESEND, name)
                skip.add(id(info))
            elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                self.add("zip-unsupported-compression",
                         f"Часть архива «{label}» сжата методом {info.compress_type}, который не "
                         f"используют программы Office (допустимы 0 — без сжатия и 8 — "
                         f"deflate). " + _RESEND, name)
                skip.add(id(info))
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_min_size and ratio > limits.max_ratio:
                self.add("zip-bomb",
                         f"{_REJECTED}Часть «{label}» сжата в {ratio:.0f} раз "
                         f"({_size(info.compress_size)} → {_size(info.file_size)}); допускается "
                         f"не более {limits.max_ratio:g}:1 для частей больше "
                         f"{_size(limits.ratio_min_size)} (в шаблоне не более 9:1). "
                         + _RESEND, name)
                skip.add(id(info))
            if self.is_xml_name(name) and info.file_size > limits.max_xml_part_size:
                self.add("xml-too-large",
                         f"{_REJECTED}XML-часть «{label}» занимает {_size(info.file_size)} после "
                         f"распаковки, допускается не более {_size(limits.max_xml_part_size)} "
                         f"(самая большая часть шаблона — около 65 КБ). " + _RESEND, name)
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
            except _Bad as exc:
                self.corrupt(f"часть «{_shown(info.orig_filename)}»: {exc}", info.orig_filename)
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
                self.add("zip-overlapping-entries",
                         f"{_REJECTED}Данные части «{_shown(info.orig_filename)}» перекрываются с "
                         f"другой частью архива или его оглавлением (приём ZIP-бомб и подмены "
                         f"содержимого). " + _RESEND, info.orig_filename)
                skip.add(id(info))
                continue
            hidden += _unexplained(start - position, descriptor)
            position = end
            descriptor = bool(info.flag_bits & 0x08)
        if spans:
            hidden += _unexplained(cd_start - position, descriptor)
        if hidden and not broken:  # a broken entry's bytes are not "hidden": it is reported
            self.add("zip-hidden-data",
                     f"Между частями архива книги есть {hidden} байт посторонних данных, не "
                     f"принадлежащих ни одной части. " + _RESEND, hidden)

    def data_span(self, info: zipfile.ZipInfo) -> tuple[int, int]:
        """(start, end) of the entry's compressed data, from its local header."""
        if info.header_offset < 0 or info.header_offset + 30 > self.size:
            raise _Bad("заголовок части за пределами файла")
        self.f.seek(info.header_offset)
        header = self.f.read(30)
        if len(header) != 30 or header[:4] != _LOCAL:
            raise _Bad("нет локального заголовка части")
        flags = struct.unpack_from("<H", header, 6)[0]
        name_len, extra_len = struct.unpack_from("<HH", header, 26)
        raw_name = self.f.read(name_len)
        encoding = "utf-8" if flags & 0x800 else "cp437"
        try:
            local_name = raw_name.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _Bad("имя в локальном заголовке не читается") from exc
        if local_name != info.orig_filename:
            raise _Bad(f"имя в локальном заголовке другое: «{_shown(local_name)}»")
        start = info.header_offset + 30 + name_len + extra_len
        end = start + info.compress_size
        if end > self.size:
            raise _Bad(f"данные части обрываются (нужно {_size(info.compress_size)})")
        return start, end

    # -- the contents ---------------------------------------------------------------------

    @staticmethod
    def is_xml_name(name: str) -> bool:
        return name.lower().endswith(_XML_EXTS) or name == "[Content_Types].xml"

    def scan_entry(self, info: zipfile.ZipInfo) -> None:
        name = info.orig_filename
        label = _shown(name)
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
                    self.add("zip-size-mismatch",
                             f"{_REJECTED}Часть «{label}» распаковывается в больший объём, чем "
                             f"заявлено в архиве ({_size(declared)}): заголовок архива "
                             f"подделан (приём ZIP-бомб). " + _RESEND, name)
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
        except (_Bad, zlib.error) as exc:
            self.corrupt(f"часть «{label}» не распаковывается ({exc})", name)
            return
        if collect:
            self.collected[name] = bytes(collected)
        if pieces is not None and self.parts is not None:
            self.parts[name] = b"".join(pieces)
        if doctype:
            self.add("xml-doctype",
                     f"{_REJECTED}XML-часть «{label}» содержит объявление <!DOCTYPE> или "
                     f"<!ENTITY>: так устроены атаки через сущности XML (внешние сущности XXE, "
                     f"«billion laughs»). Книги Excel таких объявлений не содержат. " + _RESEND,
                     name)
        if produced < declared:
            self.add("zip-size-mismatch",
                     f"Часть «{label}» распаковывается в {_size(produced)}, а в архиве заявлено "
                     f"{_size(declared)}: архив повреждён или подделан. " + _RESEND, name)
        elif crc != info.CRC:
            self.corrupt(f"контрольная сумма части «{label}» не совпадает", name)

    def check_head(self, name: str, head: bytes, xml: bool) -> bool:
        """Checks of an entry's first bytes; returns whether to scan it as XML."""
        label = _shown(name)
        lower = name.lower()
        stripped = head.lstrip(b" \t\r\n")
        if head.startswith(_ARCHIVE_MAGICS) and not lower.endswith(_ARCHIVE_EXTS):
            self.nested(name)
        elif head.startswith(_EXEC_MAGICS) and not lower.endswith(_EXEC_EXTS):
            self.executable(name)
        elif (head.startswith(_OLE_MAGIC) and name != _VBA_PROJECT
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
            self.add("xml-not-utf8",
                     f"{_REJECTED}XML-часть «{label}» записана в кодировке {shown}; книги Excel "
                     f"всегда записываются в UTF-8, а другая кодировка позволяет скрыть "
                     f"опасные объявления от проверки. " + _RESEND, name)
        return True

    def nested(self, name: str) -> None:
        label = _shown(name)
        self.add("zip-nested-archive",
                 f"{_REJECTED}Внутри книги находится вложенный архив или документ «{label}». "
                 f"В шаблон нельзя вставлять файлы и объекты. " + _RESEND, name)

    def executable(self, name: str) -> None:
        label = _shown(name)
        self.add("zip-executable",
                 f"{_REJECTED}Внутри книги находится исполняемый файл или сценарий «{label}». "
                 + _RESEND, name)

    def embedded(self, name: str) -> None:
        label = _shown(name)
        self.add("ooxml-embedded-object",
                 f"В книгу внедрён объект «{label}» (OLE, ActiveX или вложенный файл); при "
                 f"проверке он не открывается и не учитывается. Удалите внедрённые объекты из "
                 f"шаблона и отправьте файл снова.", name)

    # -- what the archive is ----------------------------------------------------------------

    def kind(self, names: list[str]) -> Kind:
        present = set(names)
        mimetype = self.collected.get("mimetype", b"").strip()
        if mimetype.startswith(b"application/vnd.oasis.opendocument."):
            if mimetype == _ODS_MIME:
                # LibreOffice's own .ods keeps its Basic libraries as XML with a DOCTYPE: not
                # an attack on a reader that never parses an .ods, and not what to tell a
                # region that merely saved in the wrong format.
                self.findings[:] = [f for f in self.findings if f.code != "xml-doctype"]
                self.add("file-ods",
                         "Файл сохранён как таблица OpenDocument (.ods, формат LibreOffice Calc, "
                         "Р7-Офис, МойОфис), а не книга Excel; в этом формате теряются защита, "
                         "проверки и подпись шаблона. " + _SAVE_AS, "ods")
                return "ods"
            what = _shown(mimetype.decode("ascii", "replace"))
            self.add("ooxml-parts-missing",
                     f"Файл — документ OpenDocument ({what}), а не книга Excel. " + _RESEND, "odf")
            return "zip-other"
        if "[Content_Types].xml" in present and "xl/workbook.xml" in present:
            missing = [part for part in _REQUIRED if part not in present]
            if missing:
                self.add("ooxml-parts-missing",
                         f"В книге нет обязательных частей: {', '.join(missing)}; Excel не "
                         f"откроет такой файл. " + _RESEND, missing)
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
        self.add("ooxml-parts-missing",
                 f"Файл — {what}, а не книга Excel: нет обязательных частей "
                 f"{', '.join(missing)}. " + _RESEND, missing)
        return "zip-other"


# ---------------------------------------------------------------------------------------------
# the entry point

def _not_a_workbook(head: bytes, findings: list[Finding]) -> Kind:
    text = _sniff_text(head)
    if text is not None:
        kind, label = text
        if kind == "html":
            findings.append(_finding(
                "file-html",
                "Файл — веб-страница HTML (например, сохранённая из Excel как «Веб-страница» "
                "или выгруженная из другой системы с расширением .xls), а не книга Excel. "
                + _SAVE_AS, "html"))
            return "html"
        if kind == "csv":
            findings.append(_finding(
                "file-csv",
                "Файл сохранён как текст с разделителями (CSV), а не книга Excel: в нём нет "
                "листов, проверок и подписи шаблона. " + _SAVE_AS, "csv"))
            return "csv"
        findings.append(_finding("file-not-zip", f"Файл — {label}, а не книга Excel. " + _RESEND,
                                 label))
        return "unknown"
    label = _binary_label(head)
    what = f"похоже на: {label}" if label else "формат не распознан"
    findings.append(_finding(
        "file-not-zip",
        f"Файл не является книгой Excel ({what}; книга .xlsx/.xlsm — это ZIP-архив, "
        f"начинающийся с «PK»). " + _RESEND, label))
    return "unknown"


def _unreadable(path: Path, detail: str) -> SafetyReport:
    return SafetyReport(path, "unknown", 0, [_finding(
        "file-unreadable", f"Файл «{_shown(path.name)}» не удалось прочитать: {detail}.",
        str(path))])


def inspect_file(path: Path, limits: SafetyLimits = SafetyLimits()) -> SafetyReport:
    """Judge a returned file by its raw bytes before any spreadsheet library sees it."""
    path = Path(path)
    try:
        before = os.stat(path)
    except OSError as exc:
        return _unreadable(path, exc.strerror or str(exc))
    if not stat.S_ISREG(before.st_mode):  # a FIFO or a device would block or never end
        return _unreadable(path, "это не обычный файл")
    findings: list[Finding] = []
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            kind, parts = _inspect_open(f, size, path, limits, findings)
    except OSError as exc:
        return _unreadable(path, exc.strerror or str(exc))
    if kind not in ("empty", "unknown", "zip-other"):
        _check_extension(path, kind, findings)
    return SafetyReport(path, kind, size, findings, parts)


def _inspect_open(f: BinaryIO, size: int, path: Path, limits: SafetyLimits,
                  findings: list[Finding]) -> tuple[Kind, dict[str, bytes] | None]:
    """The kind of file, and the unpacked parts of a clean ZIP package (else None)."""
    if size == 0:
        findings.append(_finding(
            "file-empty", "Файл пустой (0 байт): вероятно, он не был сохранён или вложение "
            "повредилось при отправке. " + _RESEND, 0))
        return "empty", None
    head = f.read(min(size, _HEAD))
    if size > limits.max_file_size:
        findings.append(_finding(
            "file-too-large",
            f"{_REJECTED}Файл занимает {_size(size)}, допускается не более "
            f"{_size(limits.max_file_size)} (заполненный шаблон — меньше 100 КБ). Не вставляйте "
            f"в шаблон изображения и другие файлы. " + _RESEND, size))
        text = _sniff_text(head) if not head.startswith((_OLE_MAGIC,) + _ZIP_MAGICS) else None
        return (text[0] if text is not None else "unknown"), None
    if head.startswith(_OLE_MAGIC):
        return _inspect_ole(f, size, findings), None
    if head.startswith(_ZIP_MAGICS):
        check = _ZipCheck(f, size, limits, findings)
        return check.run(), check.parts
    return _not_a_workbook(head, findings), None


def _check_extension(path: Path, kind: Kind, findings: list[Finding]) -> None:
    ext = path.suffix.lower()
    if kind in _EXPECTED_BY_EXT.get(ext, ()):
        return
    shown = _shown(ext) if ext else "(нет расширения)"
    findings.append(_finding(
        "file-extension-mismatch",
        f"Имя файла «{_shown(path.name)}» оканчивается на {shown}, а по содержимому это "
        f"{_KIND_RU.get(kind, kind)}. Не переименовывайте файлы вручную: сохраните книгу в Excel "
        f"в нужном формате.", {"extension": ext, "content": kind}))


# ---------------------------------------------------------------------------------------------
# what intake takes at all

_SHEET_EXTS = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".ods", ".csv")


def not_a_workbook(path: Path, limits: SafetyLimits = SafetyLimits()) -> str | None:
    """None when ``path`` looks like a returned workbook by its content (an Excel package, an
    .ods, an .xls or an encrypted workbook, a CSV table) or is a damaged or empty file named
    like one; else what it is in Russian («документ PDF»), for a file to pass over — a
    covering letter, a scan, a signature. Reads the head and at most the archive's directory."""
    path = Path(path)
    named = path.suffix.lower() in _SHEET_EXTS
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(_HEAD)
            if not head:
                return None if named else "пустой файл"
            if head.startswith(_ZIP_MAGICS):
                if size > limits.max_file_size:
                    return None  # the validator says it is too large
                return _zip_label(f)
            if head.startswith(_OLE_MAGIC):
                try:
                    streams = _cfb_root_streams(f, size)
                except (_Bad, struct.error):
                    return None if named else "повреждённый документ Office 97–2003"
                if {"workbook", "book", "encryptioninfo", "encryptedpackage"} & streams:
                    return None
                return "документ Word 97–2003" if "worddocument" in streams else (
                    "документ Office 97–2003 (не книга Excel)")
    except OSError:
        return None  # the validator reports what cannot be read
    label = _binary_label(head)
    if label is not None:
        return label
    text = _sniff_text(head)
    if text is not None:
        kind, label = text
        return None if kind == "csv" and path.suffix.lower() in (".csv", ".txt") else label
    return None if named else "файл неизвестного формата"


def _zip_label(f: BinaryIO) -> str | None:
    try:
        archive = zipfile.ZipFile(f)
        names = set(archive.namelist())
        mimetype = b""
        if "mimetype" in names and archive.getinfo("mimetype").file_size <= 256:
            mimetype = archive.read("mimetype").strip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, struct.error, OverflowError, IndexError, zlib.error):
        return None  # a damaged archive: the validator says how
    if mimetype.startswith(b"application/vnd.oasis.opendocument."):
        return None if mimetype == _ODS_MIME else "документ OpenDocument (не таблица)"
    if "xl/workbook.xml" in names or ("[Content_Types].xml" in names and not (
            {"word/document.xml", "ppt/presentation.xml"} & names)):
        return None
    if "word/document.xml" in names:
        return "документ Word (.docx)"
    if "ppt/presentation.xml" in names:
        return "презентация PowerPoint (.pptx)"
    return "ZIP-архив"
