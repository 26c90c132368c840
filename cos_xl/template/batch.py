"""Fast generation of a period's workbooks: build once, then fill in each region.

The workbooks of one period differ only in a few texts (the region's name, code and federal
district, which XlsxWriter keeps in the shared-strings part and the document title) and in the
signed manifest. So the period's workbook is built once by the full builder with placeholder
texts (a *skeleton*), and each region's workbook is the skeleton with those texts replaced,
re-signed and re-zipped exactly as XlsxWriter zips. The result is the same bytes as the full
builder's (tests compare every region); a region whose texts could change the shared-strings
table (a collision or edge whitespace) or that has previous-period values is left to the full
builder by returning ``None``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, replace

from xlsxwriter.xmlwriter import XMLwriter

from cos_xl.regions import Region
from cos_xl.signing import SigningKey, canonical_json, sign
from cos_xl.template.builder import Built, ManifestPlaceholders, build, sha256_text
from cos_xl.template.context import TemplateContext
from cos_xl.units import Unit

_MARK = "\u27e6{}\u27e7"  # ⟦…⟧: cannot occur in a form, a campaign or a region name
NAME, CODE, DISTRICT = _MARK.format("region-name"), _MARK.format("region-code"), \
    _MARK.format("federal-district")
UNIT_NAME, UNIT_ID = _MARK.format("unit-name"), _MARK.format("unit-id")
PLACEHOLDERS = ManifestPlaceholders(_MARK.format("manifest"), _MARK.format("signature"),
                                    _MARK.format("structure-digest"))
_TEXT_PARTS = ("xl/sharedStrings.xml", "docProps/core.xml")
_escape_xml = XMLwriter()._escape_data


@dataclass(frozen=True)
class _Part:
    name: str
    data: bytes


def _json_inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def placeholder_unit(kind: str) -> Unit:
    """The unit of a skeleton: placeholders for its name and id; the kind is structural."""
    return Unit(UNIT_ID, UNIT_NAME, kind)  # type: ignore[arg-type]


class PeriodBatch:
    """Renders the workbooks of one period (one form, campaign and key) from a skeleton: the
    regions' workbooks, or — when ``ctx.unit`` is set — the workbooks of a region's units of
    that unit's kind (``render_unit``)."""

    def __init__(self, ctx: TemplateContext, key: SigningKey):
        if ctx.previous or ctx.previous_period is not None:
            raise ValueError("a skeleton cannot carry previous-period values")
        self._key = key
        placeholder = Region.model_construct(
            **{**ctx.region.model_dump(), "code": CODE, "full_name": NAME,
               "federal_district": DISTRICT})
        self._ctx = ctx
        unit = None if ctx.unit is None else placeholder_unit(ctx.unit.kind)
        skeleton: Built = build(replace(ctx, region=placeholder, unit=unit), key, PLACEHOLDERS)
        self._payload = skeleton.payload
        self._structure = skeleton.structure_text
        with zipfile.ZipFile(io.BytesIO(skeleton.data)) as archive:
            self._parts = [_Part(info.filename, archive.read(info)) for info in archive.infolist()]
        self._texts = {part.name: part.data.decode("utf-8") for part in self._parts
                       if part.name in _TEXT_PARTS}
        self._shared = self._texts.get("xl/sharedStrings.xml", "")

    def render(self, region: Region) -> bytes | None:
        """The region's workbook, or None when only the full builder can make it exactly."""
        if self._ctx.unit is not None:
            raise ValueError("a skeleton of units renders units")
        return self._render(region, None)

    def render_unit(self, unit: Unit) -> bytes | None:
        """The workbook of one of the region's units (of the skeleton's kind), or None when
        only the full builder can make it exactly."""
        if self._ctx.unit is None or unit.kind != self._ctx.unit.kind:
            raise ValueError("the skeleton is not of this kind of unit")
        return self._render(self._ctx.region, unit)

    def _render(self, region: Region, unit: Unit | None) -> bytes | None:
        values = {NAME: region.full_name, CODE: region.code, DISTRICT: region.federal_district}
        if unit is not None:
            values.update({UNIT_NAME: unit.name, UNIT_ID: unit.unit_id})
        for value in values.values():
            if value != value.strip() or f"<t>{_escape_xml(value)}</t>" in self._shared:
                return None
        if len(set(values.values())) < len(values):
            return None  # two marks would become one text: the builder's string table differs
        structure = self._structure
        for mark, value in values.items():
            structure = structure.replace(_json_inner(mark), _json_inner(value))
        template_id = self._payload["template_id"].replace(CODE, region.code)
        payload = {**self._payload, "region_code": region.code, "region_name": region.full_name,
                   "template_id": template_id.replace(UNIT_ID, unit.unit_id) if unit else
                   template_id, "structure_digest": sha256_text(structure)}
        if unit is not None:
            payload["unit"] = unit.as_dict()
        text = canonical_json(payload)
        values.update({PLACEHOLDERS.payload: text, PLACEHOLDERS.signature: sign(text, self._key),
                       PLACEHOLDERS.digest: payload["structure_digest"]})

        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for part in self._parts:
                data = part.data
                if part.name in self._texts:
                    xml = self._texts[part.name]
                    for mark, value in values.items():
                        xml = xml.replace(mark, _escape_xml(value))
                    data = xml.encode("utf-8")
                info = zipfile.ZipInfo(part.name, (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return out.getvalue()

