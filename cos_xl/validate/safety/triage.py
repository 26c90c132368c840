"""What intake takes at all: :func:`not_a_workbook` tells a returned workbook (or a damaged file
named like one) from a covering letter, a scan or a signature, by the head of the file and at
most the archive's directory.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from cos_xl.validate.safety.archive import ODS_MIME
from cos_xl.validate.safety.common import Broken, SafetyLimits
from cos_xl.validate.safety.ole import root_streams
from cos_xl.validate.safety.sniff import HEAD, OLE_MAGIC, ZIP_MAGICS, binary_label, sniff_text

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
            head = f.read(HEAD)
            if not head:
                return None if named else "пустой файл"
            if head.startswith(ZIP_MAGICS):
                if size > limits.max_file_size:
                    return None  # the validator says it is too large
                return _zip_label(f)
            if head.startswith(OLE_MAGIC):
                try:
                    streams = root_streams(f, size)
                except (Broken, struct.error):
                    return None if named else "повреждённый документ Office 97–2003"
                if {"workbook", "book", "encryptioninfo", "encryptedpackage"} & streams:
                    return None
                return "документ Word 97–2003" if "worddocument" in streams else (
                    "документ Office 97–2003 (не книга Excel)")
    except OSError:
        return None  # the validator reports what cannot be read
    label = binary_label(head)
    if label is not None:
        return label
    text = sniff_text(head)
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
        return None if mimetype == ODS_MIME else "документ OpenDocument (не таблица)"
    if "xl/workbook.xml" in names or ("[Content_Types].xml" in names and not (
            {"word/document.xml", "ppt/presentation.xml"} & names)):
        return None
    if "word/document.xml" in names:
        return "документ Word (.docx)"
    if "ppt/presentation.xml" in names:
        return "презентация PowerPoint (.pptx)"
    return "ZIP-архив"
