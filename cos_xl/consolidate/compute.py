"""National consolidation of one period: from the accepted submissions to a :class:`NationalReport`.

The rules are METHODOLOGY.md's "National values": a share is the sum of numerators over the sum
of denominators (a weighted share, never a mean of percentages), a count is summed, a share whose
denominator sums to 0 has no value. Each unit's numerator and denominator come from the form's
compiled indicators (:func:`cos_xl.core.compute_indicators`), the same code as the validator and
the workbook's formulas.

A *unit* is what one submission reports for: a region, keyed by its code (``"77"``). At municipal
scale a region's figures may arrive as several units keyed ``"77-001"``, ``"77-002"``…; they are
ranked as units, summed into the region's district and the country, and a region counts as
participating in E4.01.11 on the sum of its units.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from fractions import Fraction
from types import MappingProxyType

from cos_xl import __version__
from cos_xl.campaign import Campaign, NationalTargets
from cos_xl.consolidate.model import (
    AbsentRegion, DistrictRow, Figure, IndicatorInfo, NationalReport, NationalRow, RankedFigure,
    Reproducibility, SubmissionRef, TargetPart, UnitRow, WarningCount,
)
from cos_xl.core import IndicatorValue, compute_indicators
from cos_xl.errors import CosXlError
from cos_xl.plural import plural
from cos_xl.periods import Period
from cos_xl.regions import FEDERAL_DISTRICTS, Region, regions_for_period
from cos_xl.spec import Form
from cos_xl.submission import Submission

#: Indicators whose national result the letter sets (items 7 and 8): targets from [national].
E40107 = "E4.01.07"
E40111 = "E4.01.11"
#: Inputs of E4.01.11's three-part check (METHODOLOGY.md): a subject participates when its
#: schools using the equipment are > 0; the share is over the participating subjects only.
E40111_ORGS = "e40111_orgs_go"
ORGS_GO = "orgs_go"

UNIT_KEY = re.compile(r"^(\d{2})(?:-([0-9A-Za-z_]{1,32}))?$")
_NONE: Mapping[str, Submission] = MappingProxyType({})


class ConsolidationError(CosXlError):
    """The submissions given cannot be consolidated (wrong period, form, key or verdict)."""


def consolidate_period(form: Form, campaign: Campaign, period: Period | str,
                       accepted: Mapping[str, Submission],
                       rejected: Mapping[str, Submission] = _NONE,
                       tool_version: str = __version__) -> NationalReport:
    """Consolidate one period.

    ``accepted`` maps each unit (a region code, or ``"RR-…"`` for a municipal unit of region RR)
    to its latest accepted submission; ``rejected`` maps units that sent something but have no
    accepted version to their latest submission. Regions of the period in neither are missing.
    Raises :class:`ConsolidationError` listing every inconsistency of the input."""
    period = Period.parse(period)
    expected = regions_for_period(period.year, period.quarter)
    by_code = {region.code: region for region in expected}
    _check(form, period, by_code, accepted, rejected)

    infos = tuple(IndicatorInfo(code=ind.spec.code, kind=ind.spec.kind, short=ind.spec.short,
                                title=ind.spec.title, unit=ind.spec.unit)
                  for ind in form.indicators)
    kinds = {info.code: info.kind for info in infos}
    keys = sorted(accepted)
    numbers = {unit: accepted[unit].numbers() for unit in keys}
    computed = {unit: compute_indicators(form, numbers[unit]) for unit in keys}
    ranks = {code: _ranks({unit: computed[unit][code].value for unit in keys}) for code in kinds}

    refs = {unit: _ref(unit, sub, True) for unit, sub in accepted.items()}
    units = tuple(_unit_row(unit, accepted[unit], by_code[accepted[unit].region_code],
                            refs[unit], computed[unit], ranks) for unit in keys)

    national_figures = {code: aggregate(kind, (computed[u][code] for u in keys))
                        for code, kind in kinds.items()}
    districts = tuple(_district(name, expected, units, computed, kinds)
                      for name in FEDERAL_DISTRICTS)
    targets = campaign.targets(period, form)
    by_region = [(accepted[unit].region_code, numbers[unit]) for unit in keys]
    national = tuple(_national_row(form, campaign, period, info, national_figures[info.code],
                                   targets, by_region, units)
                     for info in infos)

    sent = {sub.region_code for sub in accepted.values()} | {
        sub.region_code for sub in rejected.values()}
    missing = tuple(_absent(region.code, region, "missing") for region in expected
                    if region.code not in sent)
    rejected_rows = tuple(
        _absent(unit, by_code[rejected[unit].region_code], "rejected",
                _ref(unit, rejected[unit], False), rejected[unit])
        for unit in sorted(rejected))

    inputs = tuple(sorted([*refs.values(), *(row.submission for row in rejected_rows)],
                          key=lambda ref: ref.unit))
    return NationalReport(
        period=str(period), period_title=period.title_ru, indicators=infos, national=national,
        units=units, districts=districts, missing=missing, rejected=rejected_rows,
        warnings=_warnings(form, accepted), regions_expected=len(expected),
        reproducibility=_reproducibility(form, campaign, targets, tool_version, inputs),
    )


def aggregate(kind: str, values: Iterable[IndicatorValue | Figure]) -> Figure:
    """Sum of numerators over sum of denominators (× 100) for a share, the sum for a count."""
    if kind == "count":
        nums = [v.numerator for v in values if v.numerator is not None]
        if not nums:
            return Figure(None, None, None)
        total = sum(nums)
        return Figure(total, None, total)
    pairs = [(v.numerator, v.denominator) for v in values
             if v.numerator is not None and v.denominator is not None]
    if not pairs:
        return Figure(None, None, None)
    num = sum(p[0] for p in pairs)
    den = sum(p[1] for p in pairs)
    # The same expression as the region level (cos_xl.core): num / den * 100.
    return Figure(num, den, num / den * 100 if den else None)


def _ranks(values: Mapping[str, float | None]) -> dict[str, int | None]:
    """Competition ranking, highest first: equal values share the best place (1, 2, 2, 4);
    no value, no place. Every indicator of the form is "more is better"."""
    ordered = sorted((v, k) for k, v in values.items() if v is not None)
    ordered.sort(key=lambda item: -item[0])
    out: dict[str, int | None] = dict.fromkeys(values)
    previous, place = None, 0
    for index, (value, key) in enumerate(ordered, start=1):
        if value != previous:
            previous, place = value, index
        out[key] = place
    return out


def at_least(num: float, den: float | None, target: float) -> bool:
    """``num / den × 100 ≥ target`` (or ``num ≥ target`` without ``den``), exactly: a share
    exactly on its target is met, whatever binary rounding the division does."""
    if den is None:
        return Fraction(num) >= Fraction(target)
    return den > 0 and Fraction(num) * 100 >= Fraction(target) * Fraction(den)


def _check(form: Form, period: Period, by_code: Mapping[str, Region],
           accepted: Mapping[str, Submission], rejected: Mapping[str, Submission]) -> None:
    problems = []
    for unit in sorted(set(accepted) & set(rejected)):
        problems.append(f"{unit}: одновременно среди принятых и отклонённых")
    for group, items, want in (("принятые", accepted, True), ("отклонённые", rejected, False)):
        for unit, sub in sorted(items.items()):
            where = f"{unit} ({group}, версия {sub.version})"
            match = UNIT_KEY.match(unit) if isinstance(unit, str) else None
            if match is None or match.group(1) != sub.region_code:
                problems.append(f"{where}: ключ не совпадает с кодом региона {sub.region_code!r} "
                                "(ожидается «RR» или «RR-…»)")
            if sub.region_code not in by_code:
                problems.append(f"{where}: регион {sub.region_code!r} не отчитывается "
                                f"за {period}")
            if sub.period != str(period):
                problems.append(f"{where}: период {sub.period!r} вместо {period}")
            if (sub.form_id, sub.form_version) != (form.id, form.version):
                problems.append(f"{where}: форма {sub.form_id} {sub.form_version} вместо "
                                f"{form.id} {form.version}")
            if sub.accepted != want:
                problems.append(f"{where}: итог проверки {sub.verdict}")
    if problems:
        raise ConsolidationError(
            "Сводку нельзя построить (inconsistent submissions):\n  " + "\n  ".join(problems))


def _ref(unit: str, sub: Submission, used: bool) -> SubmissionRef:
    return SubmissionRef(unit=unit, region_code=sub.region_code, version=sub.version,
                         sha256=sub.sha256, size=sub.size, filename=sub.filename,
                         received_at=sub.received_at, verdict=sub.verdict, form_id=sub.form_id,
                         form_version=sub.form_version, used=used)


def _unit_row(unit: str, sub: Submission, region: Region, ref: SubmissionRef,
              values: Mapping[str, IndicatorValue],
              ranks: Mapping[str, Mapping[str, int | None]]) -> UnitRow:
    severities = Counter(f.severity for f in sub.findings)
    figures = {code: RankedFigure(v.numerator, v.denominator, v.value, ranks[code][unit])
               for code, v in values.items()}
    return UnitRow(unit=unit, region_code=region.code, region_name=region.full_name,
                   federal_district=region.federal_district, submission=ref, figures=figures,
                   warnings=severities["warning"], explained=severities["info"])


def _district(name: str, expected: Iterable[Region], units: tuple[UnitRow, ...],
              computed: Mapping[str, Mapping[str, IndicatorValue]],
              kinds: Mapping[str, str]) -> DistrictRow:
    members = [row for row in units if row.federal_district == name]
    figures = {code: aggregate(kind, (computed[row.unit][code] for row in members))
               for code, kind in kinds.items()}
    return DistrictRow(name=name,
                       regions=sum(1 for region in expected if region.federal_district == name),
                       reported=len({row.region_code for row in members}), figures=figures)


def _national_row(form: Form, campaign: Campaign, period: Period, info: IndicatorInfo,
                  figure: Figure, targets: Mapping[str, float],
                  inputs: list[tuple[str, Mapping[str, float]]],
                  units: tuple[UnitRow, ...]) -> NationalRow:
    count = sum(1 for row in units if row.figures[info.code].value is not None)
    national = campaign.national

    def row(target: float | None, met: bool | None, note: str,
            parts: tuple[TargetPart, ...] = ()) -> NationalRow:
        return NationalRow(indicator=info, figure=figure, target=target, met=met, units=count,
                           target_note=note, parts=parts)

    if info.code == E40107:
        target = float(national.e40107_min)
        met = figure.value is not None and at_least(figure.value, None, target)
        people = plural(target, "человека", "человек", "человек")
        return row(target, met, f"Национальный результат: не менее {_int_ru(target)} {people} "
                                "по всем субъектам (письмо ГД-1452/04, п. 7)")
    if info.code == E40111:
        parts = e40111_parts(national, figure.value, inputs)
        children = plural(national.e40111_students_min, "ребёнка", "детей", "детей")
        regions = plural(national.e40111_subjects_min, "субъекта", "субъектов", "субъектов")
        return row(parts[0].target, all(part.met for part in parts),
                   f"Национальный результат: не менее {_int_ru(national.e40111_students_min)} "
                   f"{children}, не менее {_num_ru(national.e40111_org_share_min)}% "
                   "общеобразовательных организаций в субъектах-участниках, не менее "
                   f"{national.e40111_subjects_min} {regions}; выполнен, когда выполнены все "
                   "три условия (письмо ГД-1452/04, п. 8)", parts)
    if info.kind == "share" and info.code in targets:
        target = targets[info.code]
        met = figure.value is not None and at_least(figure.numerator, figure.denominator, target)
        own = form.indicator_by_code[info.code].spec.target
        from_campaign = info.code in campaign.settings(period).targets
        source = ("цель кампании на период" if from_campaign or own is None
                  else "цель письма ГД-1452/04")
        return row(target, met, f"Не менее {_num_ru(target)}% ({source})")
    return row(None, None, "")


def e40111_parts(national: NationalTargets, students: float | None,
                 inputs: Iterable[tuple[str, Mapping[str, float]]]) -> tuple[TargetPart, ...]:
    """E4.01.11's three conditions (METHODOLOGY.md): Σ students (``students``) ≥ min;
    participating subjects (Σ e40111_orgs_go of the subject's units > 0) ≥ min; Σ e40111_orgs_go
    / Σ orgs_go over the participating subjects ≥ min %. ``inputs`` are (region code, numeric
    inputs) per accepted unit. A share without participants has no value and is not met."""
    equipped: dict[str, float] = defaultdict(float)
    schools: dict[str, float] = defaultdict(float)
    for region_code, numbers in inputs:
        equipped[region_code] += numbers.get(E40111_ORGS, 0.0)
        schools[region_code] += numbers.get(ORGS_GO, 0.0)
    participants = [code for code, value in equipped.items() if value > 0]
    num = sum(equipped[code] for code in participants)
    den = sum(schools[code] for code in participants)
    return (
        TargetPart("students", "Обучающиеся на оборудовании Целевой модели ЦОС, чел.",
                   students, float(national.e40111_students_min),
                   students is not None and at_least(students, None,
                                                     national.e40111_students_min)),
        TargetPart("subjects", "Субъекты-участники (оборудование используется хотя бы в одной "
                               "общеобразовательной организации)",
                   float(len(participants)), float(national.e40111_subjects_min),
                   len(participants) >= national.e40111_subjects_min),
        TargetPart("org_share", "Доля общеобразовательных организаций с оборудованием "
                                "в субъектах-участниках, %",
                   num / den * 100 if den else None, national.e40111_org_share_min,
                   at_least(num, den, national.e40111_org_share_min), num, den),
    )


def _absent(unit: str, region: Region, status: str, ref: SubmissionRef | None = None,
            sub: Submission | None = None) -> AbsentRegion:
    errors = [f.code for f in sub.findings if f.severity == "error"] if sub else []
    return AbsentRegion(unit=unit, region_code=region.code, region_name=region.full_name,
                        federal_district=region.federal_district, status=status,  # type: ignore[arg-type]
                        submission=ref, error_codes=tuple(sorted(set(errors))),
                        errors=len(errors))


def _warnings(form: Form, accepted: Mapping[str, Submission]) -> tuple[WarningCount, ...]:
    warnings: Counter[str] = Counter()
    explained: Counter[str] = Counter()
    units: dict[str, set[str]] = defaultdict(set)
    for unit, sub in accepted.items():
        for finding in sub.findings:
            if finding.severity == "warning":
                warnings[finding.code] += 1
            elif finding.severity == "info":
                explained[finding.code] += 1
            else:
                continue
            units[finding.code].add(unit)
    if not units:
        return ()
    titles = _titles(form, set(units))
    return tuple(WarningCount(code=code, title=titles.get(code, ""), warnings=warnings[code],
                              explained=explained[code], units=len(units[code]))
                 for code in sorted(units))


def _titles(form: Form, codes: set[str]) -> dict[str, str]:
    """Russian titles of finding codes: the form's rules first; the validator's catalogue only
    for other codes, since importing it pulls in every validation stage and the template
    builder (~0.4 s, almost half the time budget of a national report)."""
    titles = {rule.code: rule.title for rule in form.rules}
    if codes - set(titles):
        from cos_xl.validate.catalogue import catalogue
        titles.update({info.code: info.title for info in catalogue(form)})
    return titles


def _reproducibility(form: Form, campaign: Campaign, targets: Mapping[str, float],
                     tool_version: str, inputs: tuple[SubmissionRef, ...]) -> Reproducibility:
    rules = json.dumps([rule.model_dump(mode="json") for rule in form.spec.rules],
                       sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    state = "".join(f"{ref.unit}\t{ref.sha256}\t{int(ref.used)}\n" for ref in inputs)
    return Reproducibility(
        tool_version=tool_version, form_id=form.id, form_version=form.version,
        form_file=form.path.name, form_sha256=hashlib.sha256(form.path.read_bytes()).hexdigest(),
        rule_templates=len(form.spec.rules), rule_count=len(form.rules),
        rules_sha256=hashlib.sha256(rules.encode("utf-8")).hexdigest(),
        inputs_sha256=hashlib.sha256(state.encode("utf-8")).hexdigest(),
        targets=MappingProxyType(dict(targets)),
        national_targets=MappingProxyType({k: float(v) for k, v in
                                           campaign.national.model_dump().items()}),
        inputs=inputs,
    )


def _int_ru(value: float) -> str:
    """5000 -> "5 000" (Russian thousands separator: a no-break space)."""
    return f"{int(value):,}".replace(",", "\u00a0")


def _num_ru(value: float) -> str:
    """25.0 -> "25", 12.5 -> "12,5"."""
    return (f"{value:g}").replace(".", ",")
