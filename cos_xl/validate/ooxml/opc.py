"""The package (Open Packaging Conventions): parts by name, their content types, and the
relationships that lead from one part to another.

Part names are case-insensitive: two ZIP entries whose names differ only in case (or repeat
exactly) are refused by one rule, because two readers could take either. Relationships are
followed as Excel follows them — ``_rels/.rels`` → officeDocument → the workbook part → its
parts by relationship id — never by guessing part names; external targets are never followed,
and a target that leaves the package is refused.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cos_xl.validate import memo
from cos_xl.validate.ooxml.xml import CONTENT_TYPES_NS, PACKAGE_RELS_NS, children, parse

OFFICE_DOCUMENT = "/officeDocument"


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str  # the part name it resolves to, inside the package


@dataclass(frozen=True)
class ContentTypes:
    overrides: tuple[tuple[str, str], ...]  # ("/xl/workbook.xml", content type)
    defaults: tuple[tuple[str, str], ...]  # (extension, content type)


class Package:
    """The parts of one package: from a file, its bytes, or parts the safety layer unpacked."""

    def __init__(self, source: Path | str | bytes | None = None,
                 parts: Mapping[str, bytes] | None = None) -> None:
        if parts is None:
            parts = _unzip(source)
        self.parts: dict[str, bytes] = {}
        for name, data in parts.items():
            key = name.replace("\\", "/").lower()
            if key in self.parts:
                raise ValueError(f"{name}: the part appears twice in the package")
            self.parts[key] = data

    def has(self, name: str) -> bool:
        return name.lower() in self.parts

    def read(self, name: str) -> bytes:
        data = self.parts.get(name.lower())
        if data is None:
            raise ValueError(f"{name}: part is missing from the package")
        return data

    def content_types(self) -> ContentTypes:
        name = "[Content_Types].xml"
        if not self.has(name):
            raise ValueError(f"{name}: part is missing, not an OOXML package")
        return memo.by_bytes("content-types", self.read(name), _content_types)

    def relationships(self, part: str) -> dict[str, Relationship]:
        """rId → relationship of ``part`` (internal targets only)."""
        folder, base = posixpath.split(part)
        name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has(name):
            return {}
        found = memo.by_bytes("relationships", self.read(name),
                              lambda data: _relationships(name, folder, data),
                              name.encode())
        return {rel.id: rel for rel in found}

    def workbook_part(self) -> str:
        """The workbook part, as Excel finds it: ``_rels/.rels`` → officeDocument."""
        if not self.has("_rels/.rels"):
            raise ValueError("_rels/.rels: part is missing, not an OOXML package")
        for rel in self.relationships("").values():
            if rel.type.endswith(OFFICE_DOCUMENT):
                if not self.has(rel.target):
                    raise ValueError(f"{rel.target}: the workbook part is missing from the "
                                     "package")
                return rel.target
        raise ValueError("_rels/.rels: no officeDocument relationship to a workbook part")


def _unzip(source: Path | str | bytes | None) -> dict[str, bytes]:
    try:
        opened = zipfile.ZipFile(io.BytesIO(bytes(source)) if isinstance(
            source, bytes | bytearray | memoryview) else Path(source))
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a zip package: {exc}") from exc
    except OSError as exc:
        raise ValueError(f"cannot open the package: {exc}") from exc
    with opened:
        names = [info.filename for info in opened.infolist()]
        folded = [name.replace("\\", "/").lower() for name in names]
        if len(set(folded)) != len(folded):
            twice = sorted({n for n in folded if folded.count(n) > 1})
            raise ValueError(f"{twice[0]}: the part appears twice in the package")
        parts = {}
        for info in opened.infolist():
            try:
                parts[info.filename] = opened.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                    RuntimeError, OSError) as exc:
                raise ValueError(f"{info.filename}: cannot decompress the part: {exc}") from exc
    return parts


def _content_types(data: bytes) -> ContentTypes:
    name = "[Content_Types].xml"
    root = parse(name, data)
    overrides, defaults = [], []
    for elem in children(root, f"{{{CONTENT_TYPES_NS}}}Override"):
        part, ctype = elem.get("PartName"), elem.get("ContentType")
        if not part or ctype is None:
            raise ValueError(f"{name}: an Override without PartName or ContentType")
        overrides.append((part, ctype))
    for elem in children(root, f"{{{CONTENT_TYPES_NS}}}Default"):
        ext, ctype = elem.get("Extension"), elem.get("ContentType")
        if ext and ctype is not None:
            defaults.append((ext.lower(), ctype))
    return ContentTypes(tuple(overrides), tuple(defaults))


def _relationships(name: str, folder: str, data: bytes) -> tuple[Relationship, ...]:
    out = []
    seen: set[str] = set()
    for rel in children(parse(name, data), f"{{{PACKAGE_RELS_NS}}}Relationship"):
        if (rel.get("TargetMode") or "").lower() == "external":
            continue
        rid, target = rel.get("Id"), rel.get("Target")
        if not rid or target is None:
            raise ValueError(f"{name}: a Relationship without Id or Target")
        if rid in seen:
            raise ValueError(f"{name}: relationship {rid} appears twice")
        seen.add(rid)
        out.append(Relationship(rid, rel.get("Type") or "", resolve(folder, target, name)))
    return tuple(out)


def resolve(folder: str, target: str, where: str) -> str:
    """A relationship's target as a part name; ValueError for one that leaves the package."""
    target = target.split("#", 1)[0].replace("\\", "/")
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    path = posixpath.normpath(path) if path else path
    if not path or path.startswith("../") or path in ("..", "."):
        raise ValueError(f"{where}: relationship target {target!r} leaves the package")
    return path
