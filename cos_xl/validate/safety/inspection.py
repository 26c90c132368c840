"""The entry point of the safety layer, :func:`inspect_file`: the size is taken with ``fstat``
before anything is read (a file over the limit is judged by its first 8 KiB only, so a 2 GB
upload is never loaded); then the first bytes say which checks run — an OLE compound file
(:mod:`.ole`), a ZIP archive (:mod:`.archive`), anything else (:mod:`.sniff`) — and last the
name's extension is compared with what the content is.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding
from cos_xl.validate.safety.archive import ZipCheck
from cos_xl.validate.safety.common import Kind, SafetyLimits, SafetyReport, printable, size_text
from cos_xl.validate.safety.ole import inspect_ole
from cos_xl.validate.safety.sniff import (
    HEAD,
    OLE_MAGIC,
    ZIP_MAGICS,
    check_extension,
    other_format,
    sniff_text,
)


def _unreadable(path: Path, detail: str | None = None) -> SafetyReport:
    """The report on a file that cannot be read: ``detail`` is the system's reason, None for a
    path that is no regular file."""
    return SafetyReport(path, "unknown", 0, [finding(
        "file-unreadable", "not_regular" if detail is None else None, value=str(path),
        file=printable(path.name), detail=detail)])


def inspect_file(path: Path, limits: SafetyLimits = SafetyLimits()) -> SafetyReport:
    """Judge a returned file by its raw bytes before any spreadsheet library sees it."""
    path = Path(path)
    try:
        before = os.stat(path)
    except OSError as exc:
        return _unreadable(path, exc.strerror or str(exc))
    if not stat.S_ISREG(before.st_mode):  # a FIFO or a device would block or never end
        return _unreadable(path)
    findings: list[Finding] = []
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            kind, parts = _inspect_open(f, size, path, limits, findings)
    except OSError as exc:
        return _unreadable(path, exc.strerror or str(exc))
    if kind not in ("empty", "unknown", "zip-other"):
        check_extension(path, kind, findings)
    return SafetyReport(path, kind, size, findings, parts)


def _inspect_open(f: BinaryIO, size: int, path: Path, limits: SafetyLimits,
                  findings: list[Finding]) -> tuple[Kind, dict[str, bytes] | None]:
    """The kind of file, and the unpacked parts of a clean ZIP package (else None)."""
    if size == 0:
        findings.append(finding("file-empty", value=0))
        return "empty", None
    head = f.read(min(size, HEAD))
    if size > limits.max_file_size:
        findings.append(finding("file-too-large", value=size, size=size_text(size),
                                limit=size_text(limits.max_file_size)))
        text = sniff_text(head) if not head.startswith((OLE_MAGIC,) + ZIP_MAGICS) else None
        return (text[0] if text is not None else "unknown"), None
    if head.startswith(OLE_MAGIC):
        return inspect_ole(f, size, findings), None
    if head.startswith(ZIP_MAGICS):
        check = ZipCheck(f, size, limits, findings)
        return check.run(), check.parts
    return other_format(head, findings), None

