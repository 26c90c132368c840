"""What a file is by its content, never by its extension: the first bytes of the formats that
are no workbook (PDF, images, other archives, executables), text told apart as HTML (Excel's
"web page" and ``.xls``-named HTML) or CSV, and whether the name's extension says the same.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding
from cos_xl.validate.safety.common import KiB, Kind, printable

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
HEAD = 8 * KiB

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


def sniff_text(head: bytes) -> tuple[Kind, str] | None:
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


def binary_label(head: bytes) -> str | None:
    for magic, label in _BINARY_LABELS:
        if head.startswith(magic):
            return label
    return None


def other_format(head: bytes, findings: list[Finding]) -> Kind:
    """The kind of a file that is neither a ZIP nor an OLE file, with the finding that says
    what it is instead of a workbook."""
    text = sniff_text(head)
    if text is not None:
        kind, label = text
        if kind == "html":
            findings.append(finding("file-html", value="html"))
            return "html"
        if kind == "csv":
            findings.append(finding("file-csv", value="csv"))
            return "csv"
        findings.append(finding("file-not-zip", "text", value=label, what=label))
        return "unknown"
    label = binary_label(head)
    findings.append(finding("file-not-zip", "binary" if label else None, value=label, what=label))
    return "unknown"


def check_extension(path: Path, kind: Kind, findings: list[Finding]) -> None:
    """A warning when the name's extension is not one that ``kind`` is saved with."""
    ext = path.suffix.lower()
    if kind in _EXPECTED_BY_EXT.get(ext, ()):
        return
    findings.append(finding(
        "file-extension-mismatch", value={"extension": ext, "content": kind},
        file=printable(path.name), extension=printable(ext) if ext else "(нет расширения)",
        content=_KIND_RU.get(kind, kind)))
