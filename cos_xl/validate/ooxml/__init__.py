"""The validator's reader of a workbook package (.xlsx/.xlsm): the locked structure the
integrity check compares and the values the rules read.

It reads the package as Excel does, one module per part:

1. :mod:`~cos_xl.validate.ooxml.opc` — the parts (a name twice is refused), ``[Content_Types]``
   and the relationships: ``_rels/.rels`` → the workbook part → its parts by relationship id;
2. :mod:`~cos_xl.validate.ooxml.workbook` — the sheets in order (name, state, r:id), the defined
   names, the structure protection;
3. :mod:`~cos_xl.validate.ooxml.styles` — per cell format: locked or not, number format;
4. :mod:`~cos_xl.validate.ooxml.strings` — the shared strings;
5. :mod:`~cos_xl.validate.ooxml.sheet` — each worksheet: cells, protection, data validations,
   merged ranges;
6. the VBA project, found by its relationship (or its content type), as bytes.

Every part is parsed by lxml (:mod:`~cos_xl.validate.ooxml.xml`: no entities, no DTD, no
network; elements named by namespace URI, so any prefix reads the same). What is computed from
a part's bytes alone is memoised by those bytes in one place, :mod:`cos_xl.validate.memo`; the
result does not depend on what was read before. A broken package raises :class:`ValueError`
naming the part and the problem.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path

from cos_xl.validate import memo
from cos_xl.validate.ooxml.model import (
    CellXml,
    PackageXml,
    SheetXml,
    normalise_protection,
    normalise_validation,
    xml_bool,
)
from cos_xl.validate.ooxml.opc import Package
from cos_xl.validate.ooxml.sheet import DuplicateCell, protected, resolve, sheet_part
from cos_xl.validate.ooxml.strings import shared_strings
from cos_xl.validate.ooxml.styles import cell_formats
from cos_xl.validate.ooxml.workbook import normalise_reference, workbook

__all__ = [
    "CellXml",
    "DuplicateCell",
    "PackageXml",
    "SheetXml",
    "normalise_protection",
    "normalise_reference",
    "normalise_validation",
    "read_package",
    "xml_bool",
]

CT_VBA = "application/vnd.ms-office.vbaProject"


def read_package(source: Path | str | bytes | None = None, *,
                 parts: Mapping[str, bytes] | None = None) -> PackageXml:
    """The locked structure of a package: from a file or its bytes, or from ``parts`` (name →
    bytes) the safety layer has unpacked already (then the file is not opened again)."""
    pkg = Package(source, parts)
    overrides = dict(pkg.content_types().overrides)
    defaults = dict(pkg.content_types().defaults)
    wb_part = pkg.workbook_part()
    book = memo.by_bytes("workbook", pkg.read(wb_part), lambda data: workbook(wb_part, data),
                         wb_part.encode())
    rels = pkg.relationships(wb_part)

    def by_type(suffix: str) -> str | None:
        for rel in rels.values():
            if rel.type.endswith(suffix):
                return rel.target
        return None

    strings_part, styles_part = by_type("/sharedStrings"), by_type("/styles")
    strings = memo.by_bytes("shared-strings", pkg.read(strings_part),
                            lambda data: shared_strings(strings_part, data)) if (
        strings_part and pkg.has(strings_part)) else ()
    formats = memo.by_bytes("cell-formats", pkg.read(styles_part),
                            lambda data: cell_formats(styles_part, data)) if (
        styles_part and pkg.has(styles_part)) else ()

    sheets = []
    for ref in book.sheets:
        rel = rels.get(ref.rid)
        if rel is None:
            raise ValueError(f"{wb_part}: sheet {ref.name!r} refers to {ref.rid}, which is not "
                             "in its relationships")
        if not pkg.has(rel.target):
            raise ValueError(f"{rel.target}: part of sheet {ref.name!r} is missing from the "
                             "package")
        part = rel.target
        try:
            raw = memo.by_bytes("sheet", pkg.read(part), lambda data, part=part: sheet_part(
                part, data), part.encode())
        except DuplicateCell as exc:
            raise DuplicateCell(exc.part, exc.ref, ref.name) from None
        sheets.append(SheetXml(
            name=ref.name, state=ref.state, cells=resolve(raw, part, strings, formats),
            protected=protected(raw), protection=dict(raw.protection or ()),
            data_validations=[dict(v) for v in raw.validations], merged=list(raw.merged),
            part=part, kind=raw.kind))

    return PackageXml(
        sheets=sheets, defined_names=dict(book.names),
        workbook_protection=dict(book.protection) if book.protection is not None else None,
        vba_project=_vba(pkg, wb_part, by_type("/vbaProject"), overrides, defaults),
        content_types=overrides)


def _vba(pkg: Package, wb_part: str, related: str | None, overrides: dict[str, str],
         defaults: dict[str, str]) -> bytes | None:
    """The VBA project's bytes: the workbook's relationship to it, else a part of its content
    type, else the usual name when ``.bin`` parts are VBA by default."""
    part = related
    if part is None:
        part = next((name.lstrip("/") for name, ctype in overrides.items() if ctype == CT_VBA),
                    None)
    if part is None and defaults.get("bin") == CT_VBA:
        part = posixpath.join(posixpath.dirname(wb_part), "vbaProject.bin")
    return pkg.read(part) if part is not None and pkg.has(part) else None
