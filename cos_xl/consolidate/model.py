"""The national report as data: what :func:`consolidate_period` computes and the writers print.

Every figure keeps its numerator and denominator, so that a reader can check a share and any
higher level is a sum of the level below. Frozen dataclasses: a report never changes once built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cos_xl.periods import Period

IndicatorKind = Literal["share", "count"]


@dataclass(frozen=True)
class IndicatorInfo:
    """What the writers need to know about one indicator of the form."""

    code: str  # "E4.03"
    kind: IndicatorKind
    short: str  # Russian short name
    title: str  # Russian full name
    unit: str  # "%" or "чел."


@dataclass(frozen=True)
class Figure:
    """One indicator at one level (a unit, a district, the country).

    ``value`` is in percent for a share (None when the denominator is 0 or there are no data) and
    the sum for a count (None when there are no data); ``denominator`` is None for a count."""

    numerator: float | None
    denominator: float | None
    value: float | None


@dataclass(frozen=True)
class RankedFigure(Figure):
    """A unit's figure with its place among the units: 1 = highest value; equal values share
    the best place (1, 2, 2, 4); a unit without a value has no place (None)."""

    rank: int | None = None


@dataclass(frozen=True)
class SubmissionRef:
    """A submission that went into the report, for the reproducibility sheet."""

    unit: str  # "77", or "77-001" for a municipal unit of region 77
    region_code: str
    version: int
    sha256: str
    size: int
    filename: str  # as it arrived: hostile text, never a formula in our outputs
    received_at: dt.datetime  # UTC
    verdict: str
    form_id: str
    form_version: str
    used: bool  # True: accepted and counted; False: rejected (latest version, not counted)


@dataclass(frozen=True)
class UnitRow:
    """One reporting unit with an accepted submission (a region; a municipality at that scale)."""

    unit: str
    region_code: str
    region_name: str  # full Russian name of the region
    federal_district: str
    submission: SubmissionRef
    figures: Mapping[str, RankedFigure]  # by indicator code, in the form's order
    warnings: int  # findings of severity "warning" in the accepted submission
    explained: int  # findings of severity "info" (warnings explained by the region)

    @property
    def label(self) -> str:
        """Russian name for tables and charts: the region, with the unit key at municipal scale."""
        return self.region_name if self.unit == self.region_code else (
            f"{self.region_name} ({self.unit})")


@dataclass(frozen=True)
class DistrictRow:
    """A federal district: figures over its units with accepted submissions."""

    name: str  # "Центральный"
    regions: int  # subjects of the district that report in the period
    reported: int  # of them: with at least one accepted submission
    figures: Mapping[str, Figure]


@dataclass(frozen=True)
class TargetPart:
    """One condition of a national result (E4.01.11 has three)."""

    key: Literal["students", "subjects", "org_share"]
    title: str  # Russian
    value: float | None
    target: float
    met: bool
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class NationalRow:
    """One indicator for the whole country, with its target."""

    indicator: IndicatorInfo
    figure: Figure
    target: float | None  # None: no target, and then ``met`` is None
    met: bool | None  # no data with a target counts as not met
    units: int  # units whose figure has a value
    target_note: str  # Russian: where the target comes from, or ""
    parts: tuple[TargetPart, ...] = ()  # E4.01.11 only


@dataclass(frozen=True)
class AbsentRegion:
    """A region (or unit) whose figures are not in the report: never sent, or only rejected."""

    unit: str
    region_code: str
    region_name: str
    federal_district: str
    status: Literal["missing", "rejected"]
    submission: SubmissionRef | None = None  # the rejected version
    error_codes: tuple[str, ...] = ()  # distinct error codes of the rejected version, sorted
    errors: int = 0

    @property
    def label(self) -> str:
        return self.region_name if self.unit == self.region_code else (
            f"{self.region_name} ({self.unit})")


@dataclass(frozen=True)
class WarningCount:
    """How often one finding code appears in the accepted submissions."""

    code: str
    title: str  # Russian title from the validator's catalogue ("" if unknown)
    warnings: int  # severity "warning": not explained
    explained: int  # severity "info": explained by the region
    units: int  # units with at least one of them


@dataclass(frozen=True)
class Reproducibility:
    """Everything needed to tell whether two reports were made from the same things."""

    tool_version: str
    form_id: str
    form_version: str
    form_file: str  # file name of the form specification
    form_sha256: str  # of the specification file's bytes
    rule_templates: int  # rules in the specification
    rule_count: int  # checks after expansion (one per binding)
    rules_sha256: str  # of the rules in canonical JSON
    inputs_sha256: str  # of the sorted (unit, sha256, used) lines: the ledger state used
    targets: Mapping[str, float]  # per-indicator targets of the period (form + campaign)
    national_targets: Mapping[str, float]  # the campaign's [national] section
    inputs: tuple[SubmissionRef, ...]  # every submission given, accepted and rejected, by unit


@dataclass(frozen=True)
class NationalReport:
    """The consolidated figures of one period."""

    period: str  # "2020Q3"
    period_title: str  # "III квартал 2020 г."
    indicators: tuple[IndicatorInfo, ...]
    national: tuple[NationalRow, ...]  # in the form's order
    units: tuple[UnitRow, ...]  # accepted units, sorted by unit key
    districts: tuple[DistrictRow, ...]  # in the official order of federal districts
    missing: tuple[AbsentRegion, ...]  # regions of the period with nothing received, by code
    rejected: tuple[AbsentRegion, ...]  # units whose latest submission failed, none accepted
    warnings: tuple[WarningCount, ...]  # by code
    regions_expected: int  # subjects that report in the period
    reproducibility: Reproducibility

    def national_row(self, code: str) -> NationalRow:
        for row in self.national:
            if row.indicator.code == code:
                return row
        raise KeyError(code)

    @property
    def regions_reported(self) -> int:
        """Subjects with at least one accepted unit."""
        return len({row.region_code for row in self.units})

    @property
    def stamp(self) -> dt.datetime:
        """The report's own date: the latest receipt among its inputs (the period's last day
        when there are none), so the same ledger state gives the same bytes."""
        times = [ref.received_at for ref in self.reproducibility.inputs]
        if times:
            return max(times)
        return dt.datetime.combine(Period.parse(self.period).end, dt.time(0, 0),
                                   tzinfo=dt.UTC)
