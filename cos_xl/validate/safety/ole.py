"""OLE compound files (``D0 CF 11 E0 A1 B1 1A E1``), told apart by the streams of their root
storage: ``EncryptionInfo``/``EncryptedPackage`` is a password-protected (encrypted) workbook,
``Workbook``/``Book`` a legacy ``.xls``. Only the header, the FAT sectors and the directory
sectors it needs are read.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding
from cos_xl.validate.safety.common import Broken, Kind

_FREE_LIMIT = 0xFFFFFFFA  # sector numbers >= this are special (end of chain, free, ...)
#: bounds of the walk: a 20 MiB file needs at most 3 DIFAT sectors; the directory of an
#: encrypted workbook or an .xls has a handful of entries (256 sectors hold 1024-8192)
_CFB_MAX_DIFAT = 64
_CFB_MAX_DIRECTORY = 256


def root_streams(f: BinaryIO, size: int) -> set[str]:
    """Names (casefolded) of the streams and storages directly in the root storage."""
    f.seek(0)
    header = f.read(512)
    if len(header) < 512:
        raise Broken("short header")
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        raise Broken("sector size")
    ssize = 1 << shift
    per_sector = ssize // 4
    n_sectors = max(0, (size - ssize) // ssize)
    n_fat, dir_start = struct.unpack_from("<II", header, 0x2C)
    difat_start, n_difat = struct.unpack_from("<II", header, 0x44)
    fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _FREE_LIMIT]

    def sector(number: int) -> bytes:
        if number >= n_sectors:
            raise Broken("sector beyond the end")
        f.seek((number + 1) * ssize)
        data = f.read(ssize)
        if len(data) != ssize:
            raise Broken("short sector")
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
            raise Broken("FAT too short")
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
        raise Broken("no root entry")
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


def inspect_ole(f: BinaryIO, size: int, findings: list[Finding]) -> Kind:
    """The kind of an OLE compound file, with the finding that says why it cannot be checked."""
    try:
        names = root_streams(f, size)
    except (Broken, struct.error) as exc:
        findings.append(finding("file-not-zip", "ole_broken", value="ole", detail=exc))
        return "unknown"
    if {"encryptioninfo", "encryptedpackage"} & names:
        findings.append(finding("file-encrypted", value="encrypted"))
        return "encrypted"
    if {"workbook", "book"} & names:
        findings.append(finding("file-legacy-xls", value="xls"))
        return "xls"
    what = "документ Word 97–2003" if "worddocument" in names else "составной документ OLE"
    findings.append(finding("file-not-zip", "ole", value="ole", what=what,
                            streams=", ".join(sorted(names)[:8]) or "нет"))
    return "unknown"
