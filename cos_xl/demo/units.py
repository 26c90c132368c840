"""SYNTHETIC units of a region and their figures, for the demo, the tests and the benchmark.

Nothing here is real: the names say «(синтетическое)», the ids are made up (8 digits in the
style of OKTMO for municipalities, 10 in the style of an INN for organisations). A unit's
figures are a share of the region's synthetic figures (:func:`cos_xl.demo.sample.sample_region`),
rounded down so that every «из них» stays within its total.
"""

from __future__ import annotations

import csv
import io
import random

from cos_xl.demo.sample import sample_region
from cos_xl.periods import Period
from cos_xl.regions import Region
from cos_xl.spec import Form, load_form
from cos_xl.units import Unit

__all__ = ["sample_unit", "synthetic_units", "units_csv", "unit_shares"]

_PLACES = ("Северный", "Южный", "Заречный", "Центральный", "Луговой", "Сосновый", "Озёрный",
           "Лесной", "Приморский", "Горный", "Речной", "Полевой")


def synthetic_units(region: Region, count: int, kind: str = "municipality") -> tuple[Unit, ...]:
    """``count`` made-up units of ``region``; the same arguments give the same units."""
    out = []
    for n in range(1, count + 1):
        place = _PLACES[(n - 1) % len(_PLACES)]
        if kind == "municipality":
            unit_id = f"{region.code}{n:06d}"
            name = f"Муниципальный район «{place}-{n}» (синтетическое)"
        else:
            unit_id = f"{region.code}{n:08d}"
            name = f"ГБОУ «Школа № {n}» ({place}, синтетическая)"
        out.append(Unit(unit_id, name, kind))  # type: ignore[arg-type]
    return tuple(out)


def units_csv(units: tuple[Unit, ...]) -> str:
    """The units as a units file (``unit_id,name,kind``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("unit_id", "name", "kind"))
    for unit in units:
        writer.writerow((unit.unit_id, unit.name, unit.kind))
    return buffer.getvalue()


def unit_shares(units: tuple[Unit, ...], seed: int = 0) -> dict[str, float]:
    """A share of the region for each unit (they add up to 1), uneven as real districts are."""
    rng = random.Random(f"units:{seed}:{len(units)}")
    weights = {unit.unit_id: rng.uniform(0.3, 3.0) for unit in units}
    total = sum(weights.values())
    return {unit_id: weight / total for unit_id, weight in weights.items()}


def sample_unit(region: Region, period: Period | str, share: float, seed: int = 0,
                form: Form | None = None) -> dict[str, object]:
    """Every input of the form for a unit holding ``share`` of the region: counts rounded down
    (at least one organisation where there are pupils), texts and systems as the region's.
    The «из них» counts of organisations follow the region's proportion of the unit's own
    organisations (rounded), so that a unit of one school is not 0 % where its region is 99 %."""
    form = form or load_form()
    values = sample_region(region, Period.parse(period), seed, form)
    out: dict[str, object] = {}
    for item in form.inputs:
        value = values.get(item.id)
        if item.kind == "count" and isinstance(value, int):
            value = int(value * share)
        out[item.id] = value
    for students, orgs in (("students_go", "orgs_go"), ("students_do", "orgs_do"),
                           ("students_spo", "orgs_spo")):
        if out.get(students) and not out.get(orgs):
            out[orgs] = 1
    for item in form.inputs:
        total = item.part_of
        if total and total.startswith("orgs_") and values.get(total):
            ratio = int(values[item.id] or 0) / int(values[total])
            out[item.id] = min(int(out[total]), round(int(out[total]) * ratio))
    return out
