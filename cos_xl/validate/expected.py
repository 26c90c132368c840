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
from dataclasses import dataclass
from functools import lru_cache

from cos_xl.campaign import Contact
from cos_xl.errors import CosXlError
from cos_xl.periods import Period
from cos_xl.regions import Region, get_region
from cos_xl.signing import resolve_key
from cos_xl.spec import Form, available_forms, load_form
from cos_xl.template.batch import CODE, DISTRICT, NAME
from cos_xl.template.builder import build, sha256_text
from cos_xl.template.context import TemplateContext

# The key only signs the manifest, which the structure does not include.
_ANY_KEY = resolve_key(None, dev_key=True, env={})


class UnknownTemplate(CosXlError):
    """The manifest names a form or generator this version cannot rebuild."""


@dataclass(frozen=True)
class Expected:
    sheets: list[str]
    cells: list[list[str]]  # [address, kind, content] as the builder recorded them
    names: dict[str, str]
    vba: dict[str, str]


def form_for(manifest: dict) -> Form:
    for name in available_forms():
        form = load_form(name)
        if form.id == manifest.get("form_id") and form.version == manifest.get("form_version"):
            return form
    raise UnknownTemplate(f"форма {manifest.get('form_id')!r} версии "
                          f"{manifest.get('form_version')!r} неизвестна этой версии cos-xl")


def _inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


@lru_cache(maxsize=64)
def _skeleton(form_name: str, period: str, deadline: str, issued: str, targets: str,
              previous: str, contact: str, macros: bool) -> str:
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
        macros=macros)
    return build(ctx, _ANY_KEY, package=False).structure_text


def expected_structure(manifest: dict) -> Expected:
    """The structure the manifest was issued with; UnknownTemplate when it cannot be rebuilt
    exactly (another form version or generator)."""
    form = form_for(manifest)
    form_name = next(n for n in available_forms() if load_form(n) is form)
    try:
        region = get_region(manifest["region_code"])
        text = _skeleton(
            form_name, manifest["period"], manifest["deadline"], manifest["issued"],
            json.dumps(manifest.get("targets") or {}, sort_keys=True),
            json.dumps(manifest.get("previous") or {"period": None, "values": {}},
                       sort_keys=True),
            json.dumps(manifest.get("contact") or {}, sort_keys=True),
            bool(manifest.get("macros")))
    except (KeyError, ValueError, TypeError, CosXlError) as exc:
        raise UnknownTemplate(f"манифест неполон или неверен: {exc}") from exc
    for mark, value in ((NAME, region.full_name), (CODE, region.code),
                        (DISTRICT, region.federal_district)):
        text = text.replace(_inner(mark), _inner(value))
    if sha256_text(text) != manifest.get("structure_digest"):
        raise UnknownTemplate("структура, восстановленная по манифесту, не совпадает с "
                              "подписанной: шаблон сформирован другой версией cos-xl")
    data = json.loads(text)
    return Expected(data["sheets"], data["cells"], data["names"], data["vba"])
