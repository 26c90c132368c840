"""Reference table of the subjects of the Russian Federation.

The table is ``regions.csv`` beside this module, derived from the dataset ``hflabs/region``
(release 2022-12-19, creator DaData.ru, CC BY-SA 4.0); see ``README.md`` and ``LICENSE-DATA.txt``
in this package for the attribution and the list of changes. The derived table is itself under
CC BY-SA 4.0.

It holds 89 subjects: the 85 that report in every period and the four added in 2022 (codes 90,
93, 94, 95), which report from 2023Q1 on. The CSV is read with :mod:`importlib.resources`, so it
works from an installed wheel as well as from a source tree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from cos_xl.errors import RegionError

__all__ = [
    "FEDERAL_DISTRICTS",
    "Region",
    "all_regions",
    "get_region",
    "regions_for_period",
    "select_regions",
]

FederalDistrict = Literal[
    "Центральный",
    "Северо-Западный",
    "Южный",
    "Северо-Кавказский",
    "Приволжский",
    "Уральский",
    "Сибирский",
    "Дальневосточный",
]

#: The eight federal districts, in the conventional (official listing) order.
FEDERAL_DISTRICTS: tuple[str, ...] = get_args(FederalDistrict)

RegionType = Literal["Респ", "край", "обл", "г", "Аобл", "АО"]

_CSV_NAME = "regions.csv"


def _period_label(year: int, quarter: int) -> str:
    """Return the period as text, for example ``"2023Q1"``."""
    return f"{year}Q{quarter}"


def _check_period(year: int, quarter: int) -> None:
    """Raise :class:`RegionError` unless ``year``/``quarter`` form a valid reporting period."""
    if isinstance(year, bool) or not isinstance(year, int):
        raise RegionError(f"Неверный год периода: {year!r} (year must be an integer)")
    if isinstance(quarter, bool) or not isinstance(quarter, int) or not 1 <= quarter <= 4:
        raise RegionError(f"Неверный квартал периода: {quarter!r} (quarter must be 1..4)")


class Region(BaseModel):
    """One subject of the Russian Federation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(
        pattern=r"^\d{2}$",
        description="Two-digit region code (first two digits of the KLADR code), e.g. '77'.",
    )
    name: str = Field(min_length=1, description="Short name as in the source, e.g. 'Адыгея'.")
    type: RegionType = Field(
        description="Abbreviated kind of subject: Респ, край, обл, г, Аобл or АО.",
    )
    full_name: str = Field(
        min_length=1,
        description="Full Russian name for display, e.g. 'Республика Адыгея'.",
    )
    federal_district: FederalDistrict = Field(
        description="Federal district without the word 'федеральный округ', e.g. 'Центральный'.",
    )
    okato: str = Field(pattern=r"^\d{11}$", description="OKATO code, 11 digits as text.")
    oktmo: str = Field(pattern=r"^\d{8}$", description="OKTMO code, 8 digits as text.")
    iso_code: str | None = Field(
        default=None,
        pattern=r"^RU-[A-Z]{2,3}$",
        description="ISO 3166-2 code, e.g. 'RU-AD'; None where ISO 3166-2:RU has no code.",
    )
    added: int | None = Field(
        default=None,
        description="Year the subject was added; None for the subjects present before 2022.",
    )
    reports_from: str | None = Field(
        default=None,
        pattern=r"^\d{4}Q[1-4]$",
        description="First reporting period, e.g. '2023Q1'; None if the subject always reports.",
    )

    def reports_in(self, period_year: int, period_quarter: int) -> bool:
        """Tell whether this subject reports in the period ``period_year``/``period_quarter``.

        Subjects without ``reports_from`` report in every period; the others from that period on.
        """
        _check_period(period_year, period_quarter)
        if self.reports_from is None:
            return True
        first_year, first_quarter = self.reports_from.split("Q")
        return (period_year, period_quarter) >= (int(first_year), int(first_quarter))


@cache
def all_regions() -> tuple[Region, ...]:
    """Return all 89 subjects, sorted by code (loaded once from the packaged CSV)."""
    text = resources.files(__name__).joinpath(_CSV_NAME).read_text(encoding="utf-8")
    regions = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        values: dict[str, object] = {key: (value or None) for key, value in row.items()}
        if values["added"] is not None:
            values["added"] = int(str(values["added"]))
        regions.append(Region.model_validate(values))
    return tuple(sorted(regions, key=lambda region: region.code))


@cache
def _by_code() -> dict[str, Region]:
    """Return the regions indexed by their two-digit code."""
    return {region.code: region for region in all_regions()}


def regions_for_period(year: int, quarter: int) -> tuple[Region, ...]:
    """Return the subjects that report in the period, sorted by code (85 before 2023, then 89)."""
    _check_period(year, quarter)
    return tuple(region for region in all_regions() if region.reports_in(year, quarter))


def _normalise_code(code: str | int) -> str:
    """Turn ``7``, ``"7"``, ``"07"`` into ``"07"``; raise :class:`RegionError` on anything else."""
    if isinstance(code, bool):
        raise RegionError(f"Неизвестный код региона: {code!r} (unknown region code)")
    if isinstance(code, int):
        text = str(code)
    elif isinstance(code, str):
        text = code.strip()
    else:
        raise RegionError(f"Неизвестный код региона: {code!r} (unknown region code)")
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 2):
        raise RegionError(f"Неизвестный код региона: {code!r} (unknown region code)")
    return text.zfill(2)


def get_region(code: str | int) -> Region:
    """Return the subject with the given code.

    ``"77"``, ``"7"``, ``7`` and ``"07"`` are accepted (normalised to two digits). An unknown or
    malformed code raises :class:`cos_xl.errors.RegionError`.
    """
    normalised = _normalise_code(code)
    try:
        return _by_code()[normalised]
    except KeyError:
        raise RegionError(
            f"Неизвестный код региона: {normalised!r} (unknown region code)"
        ) from None


def select_regions(
    codes: Iterable[str | int] | None, year: int, quarter: int
) -> tuple[Region, ...]:
    """Return the subjects to use for the period ``year``/``quarter``, sorted by code.

    ``codes=None`` means every subject that reports in the period. Otherwise the named subjects are
    returned, deduplicated and in code order; an unknown code, or a subject that does not report in
    that period, raises :class:`cos_xl.errors.RegionError`.
    """
    _check_period(year, quarter)
    if codes is None:
        return regions_for_period(year, quarter)
    if isinstance(codes, (str, bytes, int)):
        raise TypeError(f"codes must be an iterable of region codes or None, not {codes!r}")
    selected: dict[str, Region] = {}
    for code in codes:
        region = get_region(code)
        if not region.reports_in(year, quarter):
            raise RegionError(
                f"Регион {region.code} ({region.full_name}) отчитывается с {region.reports_from}, "
                f"а запрошен период {_period_label(year, quarter)} "
                "(region does not report in this period)"
            )
        selected[region.code] = region
    return tuple(selected[code] for code in sorted(selected))
