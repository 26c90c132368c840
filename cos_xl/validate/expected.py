"""What a returned workbook's locked structure must be: regenerated from its signed manifest.

The manifest carries everything the generator used (form, region, period, dates, targets,
previous values, contact, macros). Rebuilding the structure and checking its SHA-256 against the
signed ``structure_digest`` proves the expectation is exactly what was issued; the comparison
with the file then needs no copy of the original. Structures are cached per period with the
region's texts as placeholders, as the generator's fast path does.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache

from cos_xl.campaign import Contact
from cos_xl.errors import CosXlError
from cos_xl.periods import Period
from cos_xl.regions import Region, get_region
from cos_xl.signing import resolve_key
from cos_xl.spec import Form, available_forms, load_form
from cos_xl.template.batch import CODE, DISTRICT, NAME, UNIT_ID, UNIT_NAME, placeholder_unit
from cos_xl.template.builder import build, sha256_text
from cos_xl.template.context import TemplateContext
from cos_xl.units import KINDS
from cos_xl.validate import memo

# The key only signs the manifest, which the structure does not include.
_ANY_KEY = resolve_key(None, dev_key=True, env={})


class UnknownTemplate(CosXlError):
    """The manifest names a form or generator this version cannot rebuild."""


@dataclass(frozen=True)
class Expected:
    sheets: list[str]
    #: the locked cells as (sheet, cell, kind, content), as the builder recorded them; the
    #: regions of a period share the tuples of their skeleton (memory stays flat)
    records: list[tuple[str, str, str, str]]
    names: dict[str, str]
    vba: dict[str, str]
    #: indexes of the records whose content is the region's own (its name, code, district)
    marked: tuple[int, ...] = field(default=(), compare=False, repr=False)
    #: the other records by sheet and kind, in order: (sheet, kind, indexes, cells, contents);
    #: shared by the regions of a period, for checks in bulk
    groups: tuple[tuple[str, str, tuple[int, ...], tuple[str, ...], tuple[str, ...]], ...] = field(
        default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.groups is None:
            object.__setattr__(self, "groups", _groups(self.records, set(self.marked)))


def _records(cells: list[list[str]]) -> list[tuple[str, str, str, str]]:
    """The builder's [address, kind, content] as (sheet, cell, kind, content); one string per
    sheet name."""
    sheet_names: dict[str, str] = {}
    out = []
    for address, kind, content in cells:
        sheet, cell = address.rsplit("!", 1)
        out.append((sheet_names.setdefault(sheet, sheet), cell, kind, content))
    return out


def _groups(records: list[tuple[str, str, str, str]], marked: set[int]) -> tuple:
    by: dict[tuple[str, str], list[int]] = {}
    for i, (sheet, _cell, kind, _content) in enumerate(records):
        if i not in marked:
            by.setdefault((sheet, kind), []).append(i)
    return tuple((sheet, kind, tuple(found), tuple(records[i][1] for i in found),
                  tuple(records[i][3] for i in found)) for (sheet, kind), found in by.items())


@lru_cache(maxsize=8)
def _forms() -> tuple[tuple[str, Form], ...]:
    return tuple((name, load_form(name)) for name in available_forms())


def _form_entry(manifest: dict) -> tuple[str, Form]:
    for name, form in _forms():
        if form.id == manifest.get("form_id") and form.version == manifest.get("form_version"):
            return name, form
    raise UnknownTemplate(f"форма {manifest.get('form_id')!r} версии "
                          f"{manifest.get('form_version')!r} неизвестна этой версии cos-xl")


def form_for(manifest: dict) -> Form:
    return _form_entry(manifest)[1]


def _inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _skeleton(form_name: str, period: str, deadline: str, issued: str, targets: str,
              previous: str, contact: str, macros: bool, unit_kind: str | None = None) -> str:
    form = load_form(form_name)
    prev = json.loads(previous)
    placeholder = Region.model_construct(
        code=CODE, name="", type="г", full_name=NAME, federal_district=DISTRICT, okato="",
        oktmo="", iso_code=None, added=None, reports_from=None)
    ctx = TemplateContext(
        form=form, region=placeholder, period=Period.parse(period),
        deadline=dt.date.fromisoformat(deadline), issued=dt.date.fromisoformat(issued),
        targets=json.loads(targets), password="-", contact=Contact(**json.loads(contact)),
        previous=prev["values"],
        previous_period=Period.parse(prev["period"]) if prev["period"] else None,
        macros=macros, unit=placeholder_unit(unit_kind) if unit_kind else None)
    return build(ctx, _ANY_KEY, package=False).structure_text


@dataclass(frozen=True)
class _Skeleton:
    """A period's structure with placeholders: its text (for the digest) and its parsed form,
    whose ``marked`` records hold a placeholder."""

    text: str
    expected: Expected


_SKELETON_WEIGHT = 1 << 20  # a period's skeleton, text and records: ~0.6 MB


def _parsed(*key) -> _Skeleton:
    """The skeleton of a period, memoised (:mod:`cos_xl.validate.memo`) by the exact text of
    what the signed manifest says of the period (its key): four years of quarters fit."""
    return memo.by_bytes("period-skeleton", json.dumps(key, ensure_ascii=False).encode(),
                         lambda _key: _parse_skeleton(key), weight=_SKELETON_WEIGHT)


def _parse_skeleton(key: tuple) -> _Skeleton:
    text = _skeleton(*key)
    data = json.loads(text)
    marks = (NAME, CODE, DISTRICT, UNIT_NAME, UNIT_ID)
    marked = tuple(i for i, (_address, _kind, content) in enumerate(data["cells"])
                   if any(mark in content for mark in marks))
    if any(mark in json.dumps([data["sheets"], data["names"], data["vba"]]) for mark in marks):
        raise UnknownTemplate("заполнители региона вне ячеек: структура не поддерживается")
    return _Skeleton(text, Expected(data["sheets"], _records(data["cells"]), data["names"],
                                    data["vba"], marked=marked))


def _expected(key: tuple, code: str, digest: str, unit: dict | None = None) -> Expected:
    """The region's structure: its period's skeleton with the region's texts, checked against
    the signed digest. Not cached: a round sees each region once, and a cached region would
    keep its skeleton's records alive after the skeleton is dropped."""
    skeleton = _parsed(*key)
    region = get_region(code)
    replace = ((NAME, region.full_name), (CODE, region.code), (DISTRICT, region.federal_district))
    if unit is not None:
        replace += ((UNIT_NAME, str(unit["name"])), (UNIT_ID, str(unit["id"])))
    text = skeleton.text
    for mark, value in replace:
        text = text.replace(_inner(mark), _inner(value))
    if sha256_text(text) != digest:
        raise UnknownTemplate("структура, восстановленная по манифесту, не совпадает с "
                              "подписанной: шаблон сформирован другой версией cos-xl")
    base = skeleton.expected
    records = list(base.records)
    for i in base.marked:
        content = records[i][3]
        for mark, value in replace:
            content = content.replace(mark, value)
        records[i] = (*records[i][:3], content)
    return Expected(base.sheets, records, base.names, base.vba, base.marked, base.groups)


def expected_structure(manifest: dict) -> Expected:
    """The structure the manifest was issued with; UnknownTemplate when it cannot be rebuilt
    exactly (another form version or generator)."""
    form_name, _form = _form_entry(manifest)
    try:
        key = (
            form_name, manifest["period"], manifest["deadline"], manifest["issued"],
            json.dumps(manifest.get("targets") or {}, sort_keys=True),
            json.dumps(manifest.get("previous") or {"period": None, "values": {}},
                       sort_keys=True),
            json.dumps(manifest.get("contact") or {}, sort_keys=True),
            bool(manifest.get("macros")))
        unit = None
        if manifest.get("level") == "unit":
            unit = manifest["unit"]
            if not isinstance(unit, dict) or unit.get("kind") not in KINDS:
                raise ValueError(f"unit {unit!r}")
            key += (unit["kind"],)
        elif "level" in manifest:
            raise ValueError(f"level {manifest['level']!r}")
        return _expected(key, str(manifest["region_code"]),
                         str(manifest.get("structure_digest")), unit)
    except UnknownTemplate:
        raise
    except (KeyError, ValueError, TypeError, CosXlError) as exc:
        raise UnknownTemplate(f"манифест неполон или неверен: {exc}") from exc
