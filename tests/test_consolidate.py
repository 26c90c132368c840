"""National consolidation: figures against an independent recomputation written from
METHODOLOGY.md (not through the form's expressions), weighted shares, zero denominators, ranks,
district subtotals, targets (E4.01.11 part by part, at its boundaries) and input checks."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from fractions import Fraction

import pytest
from consolidate_synth import (
    FORM, PERIOD, municipal_round, national_round, random_values, submission, warning,
)

import cos_xl
from cos_xl.campaign import Campaign, NationalTargets, PeriodSettings
from cos_xl.consolidate import ConsolidationError, consolidate_period
from cos_xl.consolidate.compute import at_least
from cos_xl.regions import FEDERAL_DISTRICTS, get_region, regions_for_period

# METHODOLOGY.md, "Indicators": (kind, numerator inputs, denominator inputs), written out by hand.
METHOD = {
    "E4.03": ("share", ["e403_go", "e403_do", "e403_spo"],
              ["students_go", "students_do", "students_spo"]),
    "E4.04": ("share", ["e404_go", "e404_do", "e404_spo"],
              ["students_go", "students_do", "students_spo"]),
    "E4.05": ("share", ["e405_go", "e405_do", "e405_spo"], ["orgs_go", "orgs_do", "orgs_spo"]),
    "E4.07": ("share", ["e407_go", "e407_spo"], ["students_go", "students_spo"]),
    "E4.08": ("share", ["e408_go"], ["teachers_go"]),
    "E4.01.05": ("share", ["e40105_go", "e40105_do"], ["orgs_go", "orgs_do"]),
    "E4.01.07": ("count", ["e40107"], None),
    "E4.01.11": ("count", ["e40111_students"], None),
}
CODES = list(METHOD)


def expected(inputs: list[dict]) -> dict[str, tuple[Fraction | None, int, int | None]]:
    """(value, numerator, denominator) per indicator over raw input dicts, exactly."""
    out = {}
    for code, (kind, num_ids, den_ids) in METHOD.items():
        num = sum(int(v[i]) for v in inputs for i in num_ids)
        if kind == "count":
            out[code] = (Fraction(num) if inputs else None, num, None)
            continue
        den = sum(int(v[i]) for v in inputs for i in den_ids)
        out[code] = (Fraction(num, den) * 100 if den else None, num, den)
    return out


def assert_figure(fig, want) -> None:
    value, num, den = want
    assert fig.numerator == num
    assert fig.denominator == den
    if value is None:
        assert fig.value is None
    else:
        assert fig.value == pytest.approx(float(value), rel=1e-12, abs=0)


@pytest.fixture(scope="module")
def national():
    accepted, rejected = national_round(seed=7, missing=3, rejected=2)
    return accepted, rejected, consolidate_period(FORM, Campaign(), PERIOD, accepted, rejected)


def test_national_values_equal_independent_recomputation(national):
    accepted, _, report = national
    want = expected([dict(s.values) for s in accepted.values()])
    assert [line.indicator.code for line in report.national] == CODES
    for line in report.national:
        assert_figure(line.figure, want[line.indicator.code])
    for unit in report.units:
        mine = expected([dict(accepted[unit.unit].values)])
        for code in CODES:
            assert_figure(unit.figures[code], mine[code])


def test_only_accepted_count_and_absent_regions_are_listed(national):
    accepted, rejected, report = national
    codes = {r.code for r in regions_for_period(2020, 3)}
    assert report.regions_expected == 85
    assert [u.unit for u in report.units] == sorted(accepted)
    assert [a.unit for a in report.rejected] == sorted(rejected)
    assert {a.region_code for a in report.missing} == codes - set(accepted) - set(rejected)
    assert len(report.missing) == 3 and report.regions_reported == 80
    for absent in report.rejected:
        assert absent.status == "rejected" and absent.error_codes == ("part-exceeds-total",)
        assert absent.submission is not None and not absent.submission.used
    for absent in report.missing:
        assert absent.status == "missing" and absent.submission is None
        assert absent.region_name == get_region(absent.region_code).full_name


def test_share_is_weighted_not_mean_of_percentages():
    big = random_values(random.Random(1))
    small = dict(big)
    big.update(teachers_go=99_000, e408_go=990)  # 1 %
    small.update(teachers_go=1_000, e408_go=1_000)  # 100 %
    report = consolidate_period(FORM, Campaign(), PERIOD,
                                {"77": submission("77", big), "50": submission("50", small)})
    fig = report.national_row("E4.08").figure
    assert (fig.numerator, fig.denominator) == (1_990, 100_000)
    assert fig.value == pytest.approx(1.99)  # the mean of percentages would be 50.5


def test_zero_denominators_have_no_value_and_no_rank():
    rng = random.Random(3)
    zero = random_values(rng)
    zero.update(teachers_go=0, e408_go=0, students_spo=0, e403_spo=0, e404_spo=0, e407_spo=0)
    other = random_values(rng)
    report = consolidate_period(FORM, Campaign(), PERIOD,
                                {"01": submission("01", zero), "02": submission("02", other)})
    by_unit = {u.unit: u for u in report.units}
    assert by_unit["01"].figures["E4.08"].value is None
    assert by_unit["01"].figures["E4.08"].rank is None
    assert by_unit["01"].figures["E4.08"].denominator == 0
    assert by_unit["02"].figures["E4.08"].rank == 1
    assert_figure(report.national_row("E4.08").figure, expected([zero, other])["E4.08"])
    assert by_unit["01"].figures["E4.07"].value is not None  # students_go is not zero

    only_zero = consolidate_period(FORM, Campaign(), PERIOD, {"01": submission("01", zero)})
    line = only_zero.national_row("E4.08")
    assert (line.figure.numerator, line.figure.denominator, line.figure.value) == (0, 0, None)
    assert line.units == 0


def test_no_accepted_submission_gives_empty_figures_and_everything_missing():
    report = consolidate_period(FORM, Campaign(), PERIOD, {})
    assert len(report.missing) == 85 and report.units == ()
    for line in report.national:
        assert line.figure.value is None
        assert line.met in (None, False)
    assert report.national_row("E4.01.05").met is False  # a target and no data: not met


def test_ranks_are_competition_ranks_highest_first_ties_share():
    rng = random.Random(5)
    shares = {"01": (1, 2), "02": (2, 4), "03": (3, 4), "04": (0, 0), "05": (1, 10),
              "06": (3, 4)}
    accepted = {}
    for code, (num, den) in shares.items():
        values = random_values(rng)
        values.update(teachers_go=den, e408_go=num)
        accepted[code] = submission(code, values)
    report = consolidate_period(FORM, Campaign(), PERIOD, accepted)
    ranks = {u.unit: u.figures["E4.08"].rank for u in report.units}
    assert ranks == {"03": 1, "06": 1, "01": 3, "02": 3, "05": 5, "04": None}


def test_district_subtotals_are_weighted_over_their_regions(national):
    accepted, _, report = national
    assert [d.name for d in report.districts] == list(FEDERAL_DISTRICTS)
    members = defaultdict(list)
    for code, sub in accepted.items():
        members[get_region(code).federal_district].append(dict(sub.values))
    for district in report.districts:
        want = expected(members[district.name])
        for code in CODES:
            if members[district.name]:
                assert_figure(district.figures[code], want[code])
        assert district.reported == len(members[district.name])
        assert district.regions == sum(1 for r in regions_for_period(2020, 3)
                                       if r.federal_district == district.name)
    # districts add up to the country
    for code in ("E4.03", "E4.01.07"):
        assert sum(d.figures[code].numerator for d in report.districts) == \
            report.national_row(code).figure.numerator


def spread(total: int, index: int, parts: int) -> int:
    """The index-th of ``parts`` whole shares of ``total`` (they add up to it exactly)."""
    return total // parts + (index < total % parts)


def e40111_round(participants: int, students: int, equipped: int, schools: int,
                 bystanders: int = 5) -> dict:
    """``participants`` regions with e40111_orgs_go > 0 sharing the totals given, plus
    ``bystanders`` regions without equipment (their many schools must not dilute the share)."""
    rng = random.Random(11)
    codes = [r.code for r in regions_for_period(2020, 3)]
    accepted = {}
    for i, code in enumerate(codes[:participants + bystanders]):
        values = random_values(rng)
        if i < participants:
            values.update(e40111_orgs_go=spread(equipped, i, participants),
                          orgs_go=spread(schools, i, participants),
                          e40111_students=spread(students, i, participants),
                          students_go=10_000_000)
        else:
            values.update(e40111_orgs_go=0, e40111_students=0, orgs_go=5_000)
        values.update(e405_go=0, e40105_go=0)
        accepted[code] = submission(code, values)
    return accepted


@pytest.mark.parametrize("case, participants, students, equipped, schools, met", [
    ("all exactly on the boundary", 75, 500_000, 2_500, 10_000, (True, True, True)),
    ("one child short", 75, 499_999, 2_500, 10_000, (False, True, True)),
    ("74 subjects", 74, 600_000, 2_500, 10_000, (True, False, True)),
    ("one school short of 25 %", 80, 600_000, 2_499, 10_000, (True, True, False)),
    ("share just above", 80, 600_000, 2_500, 9_999, (True, True, True)),
])
def test_e40111_three_part_check_at_boundaries(case, participants, students, equipped, schools,
                                               met):
    accepted = e40111_round(participants, students, equipped, schools)
    report = consolidate_period(FORM, Campaign(), PERIOD, accepted)
    line = report.national_row("E4.01.11")
    parts = {p.key: p for p in line.parts}
    assert list(parts) == ["students", "subjects", "org_share"]
    assert parts["students"].value == students and parts["students"].target == 500_000
    assert parts["subjects"].value == participants and parts["subjects"].target == 75
    assert (parts["org_share"].numerator, parts["org_share"].denominator) == (equipped, schools)
    assert parts["org_share"].value == pytest.approx(equipped / schools * 100)
    assert (parts["students"].met, parts["subjects"].met, parts["org_share"].met) == met, case
    assert line.met is all(met)
    assert line.target == 500_000


def test_e40111_share_exactly_on_target_is_met_despite_float_rounding():
    # 29 / 100 * 100 is 28.999999999999996 in binary floating point.
    assert 29 / 100 * 100 < 29
    assert at_least(29, 100, 29.0) and not at_least(28, 100, 29.0)
    campaign = Campaign(national=NationalTargets(e40111_org_share_min=29.0))
    accepted = e40111_round(75, 500_000, 2_900, 10_000)
    part = consolidate_period(FORM, campaign, PERIOD, accepted).national_row("E4.01.11").parts[2]
    assert part.met is True


def test_e40111_without_participants_has_no_share_and_fails():
    accepted = e40111_round(0, 0, 0, 0)
    parts = consolidate_period(FORM, Campaign(), PERIOD, accepted).national_row(
        "E4.01.11").parts
    assert parts[1].value == 0 and parts[1].met is False
    assert parts[2].value is None and parts[2].met is False


def test_targets_from_letter_campaign_and_national_section():
    accepted, rejected = national_round(seed=9)
    campaign = Campaign(periods={PERIOD: PeriodSettings(targets={"E4.03": 10.0,
                                                                 "E4.04": 99.0})},
                        national=NationalTargets(e40107_min=10**9))
    report = consolidate_period(FORM, campaign, PERIOD, accepted, rejected)
    e403, e404 = report.national_row("E4.03"), report.national_row("E4.04")
    assert (e403.target, e403.met) == (10.0, True)
    assert (e404.target, e404.met) == (99.0, False)
    assert "кампании" in e403.target_note
    e40105 = report.national_row("E4.01.05")
    assert e40105.target == 100.0 and e40105.met is False and "письма" in e40105.target_note
    assert report.national_row("E4.05").target is None
    assert report.national_row("E4.05").met is None
    e40107 = report.national_row("E4.01.07")
    assert e40107.target == 10**9 and e40107.met is False
    default = consolidate_period(FORM, Campaign(), PERIOD, accepted, rejected)
    assert default.national_row("E4.01.07").target == 5_000
    assert default.national_row("E4.01.07").met is (
        default.national_row("E4.01.07").figure.value >= 5_000)


def test_e40107_met_at_exactly_5000():
    rng = random.Random(2)
    accepted = {}
    for code, count in (("01", 2_500), ("02", 2_500)):
        values = random_values(rng)
        values["e40107"] = count
        accepted[code] = submission(code, values)
    assert consolidate_period(FORM, Campaign(), PERIOD, accepted).national_row(
        "E4.01.07").met is True
    accepted["02"] = submission("02", {**accepted["02"].values, "e40107": 2_499})
    assert consolidate_period(FORM, Campaign(), PERIOD, accepted).national_row(
        "E4.01.07").met is False


def test_the_submission_given_is_the_one_counted():
    """The ledger picks the latest accepted version; consolidation counts exactly that one and
    says which (a later rejected version changes nothing)."""
    rng = random.Random(4)
    first, second = random_values(rng), random_values(rng)
    v1 = submission("77", first, version=1)
    v3 = submission("77", second, version=3)
    for sub, values in ((v1, first), (v3, second)):
        report = consolidate_period(FORM, Campaign(), PERIOD, {"77": sub})
        assert_figure(report.national_row("E4.03").figure, expected([values])["E4.03"])
        assert report.units[0].submission.version == sub.version
        assert report.reproducibility.inputs[0].sha256 == sub.sha256


def test_warnings_summary_counts_per_code_and_unit():
    rng = random.Random(6)
    accepted = {
        "01": submission("01", random_values(rng), verdict="PASS_WITH_WARNINGS",
                         findings=(warning("students-per-org"), warning("target-not-met"),
                                   warning("target-not-met", "info"))),
        "02": submission("02", random_values(rng), verdict="PASS_WITH_WARNINGS",
                         findings=(warning("target-not-met"),)),
        "03": submission("03", random_values(rng), verdict="PASS_WITH_WARNINGS",
                         findings=(warning("manifest-dev-key"),)),
    }
    report = consolidate_period(FORM, Campaign(), PERIOD, accepted)
    summary = {w.code: (w.warnings, w.explained, w.units) for w in report.warnings}
    assert summary == {"students-per-org": (1, 0, 1), "target-not-met": (2, 1, 2),
                       "manifest-dev-key": (1, 0, 1)}
    titles = {w.code: w.title for w in report.warnings}
    assert titles["target-not-met"].startswith("Доля сайтов")  # a rule of the form
    assert titles["manifest-dev-key"] == "Шаблон подписан ключом разработчика"  # the catalogue
    per_unit = {u.unit: (u.warnings, u.explained) for u in report.units}
    assert per_unit == {"01": (2, 1), "02": (1, 0), "03": (1, 0)}


def test_reproducibility_names_every_input_and_the_form(national):
    accepted, rejected, report = national
    rep = report.reproducibility
    assert rep.form_id == FORM.id and rep.form_version == FORM.version
    assert rep.form_sha256 == hashlib.sha256(FORM.path.read_bytes()).hexdigest()
    assert rep.rule_count == len(FORM.rules) and rep.rule_templates == len(FORM.spec.rules)
    assert rep.tool_version == cos_xl.__version__
    assert [ref.unit for ref in rep.inputs] == sorted([*accepted, *rejected])
    for ref in rep.inputs:
        sub = accepted.get(ref.unit) or rejected[ref.unit]
        assert (ref.sha256, ref.version, ref.filename, ref.received_at, ref.used) == (
            sub.sha256, sub.version, sub.filename, sub.received_at, ref.unit in accepted)
    changed = dict(accepted)
    code = sorted(changed)[0]
    changed[code] = submission(code, random_values(random.Random(0)), version=9)
    other = consolidate_period(FORM, Campaign(), PERIOD, changed, rejected)
    assert other.reproducibility.inputs_sha256 != rep.inputs_sha256
    again = consolidate_period(FORM, Campaign(), PERIOD, dict(reversed(accepted.items())),
                               rejected)
    assert again == report


def test_municipal_units_sum_into_regions_and_rank_as_units():
    units = municipal_round(count=170, seed=8)  # two units per region
    report = consolidate_period(FORM, Campaign(), PERIOD, units)
    assert len(report.units) == 170 and report.missing == () and report.regions_reported == 85
    want = expected([dict(s.values) for s in units.values()])
    for code in CODES:
        assert_figure(report.national_row(code).figure, want[code])
    ranks = sorted(u.figures["E4.03"].rank for u in report.units)
    assert ranks[0] == 1 and ranks[-1] <= 170
    assert report.units[0].label.endswith("(01-000)")
    # a region takes part in E4.01.11 when the sum over its units is > 0
    by_region = defaultdict(int)
    for sub in units.values():
        by_region[sub.region_code] += sub.values["e40111_orgs_go"]
    parts = report.national_row("E4.01.11").parts
    assert parts[1].value == sum(1 for v in by_region.values() if v > 0)


@pytest.mark.parametrize("accepted, rejected, message", [
    ({"77": submission("50", {})}, {}, "ключ не совпадает"),
    ({"7": submission("77", {})}, {}, "ключ не совпадает"),
    ({"77-=1": submission("77", {})}, {}, "ключ не совпадает"),
    ({"90": submission("90", {})}, {}, "не отчитывается"),
    ({"77": submission("77", {}, period="2020Q4")}, {}, "период"),
    ({"77": submission("77", {}, form_version="1999.1")}, {}, "форма"),
    ({"77": submission("77", {}, verdict="FAIL")}, {}, "итог проверки FAIL"),
    ({}, {"77": submission("77", {}, verdict="PASS")}, "итог проверки PASS"),
    ({"77": submission("77", {})}, {"77": submission("77", {}, verdict="FAIL")},
     "одновременно"),
])
def test_inconsistent_input_is_refused_with_a_message(accepted, rejected, message):
    with pytest.raises(ConsolidationError, match=message):
        consolidate_period(FORM, Campaign(), PERIOD, accepted, rejected)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConsolidationError) as info:
        consolidate_period(FORM, Campaign(), PERIOD,
                           {"77": submission("77", {}, period="2020Q4"),
                            "50": submission("50", {}, verdict="FAIL")})
    assert "77 (" in str(info.value) and "50 (" in str(info.value)
