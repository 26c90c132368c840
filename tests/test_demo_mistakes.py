"""The typical mistakes of a round: every scenario's file gets exactly the verdict and the
findings (code, severity, cell) it declares, and the plan of a whole round holds together."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from helpers import DEV_KEY

from cos_xl.demo.mistakes import (
    MISSING,
    SCENARIOS,
    Expected,
    ExpectedFinding,
    plan_round,
    write_returns,
)
from cos_xl.generate import generate
from cos_xl.validate.run import validate_file

PERIOD = "2020Q3"
IDS = [s.id for s in SCENARIOS]

# What each mistake must give, written out by hand (cells of the 2020.1 form): per version,
# (code, severity, sheet, cell).
BY_HAND = {
    "number-as-text": [[("value-as-text", "error", "Данные", "D6")]],
    "part-above-total": [[("part-exceeds-total", "error", "Данные", "D20")]],
    "formula-pasted-over": [[("formula-replaced", "error", "Показатели", "E11"),
                             ("indicator-cache-stale", "warning", "Показатели", "E11"),
                             ("target-not-met", "warning", "Показатели", "E11")]],
    "check-pasted-over": [[("formula-replaced", "error", "Проверки", "E71"),
                           ("target-not-met", "warning", "Показатели", "E11")]],
    "missing-responsible": [[("value-missing", "error", "Титул", "B14"),
                             ("value-missing", "error", "Титул", "B17")]],
    "late": [[]],
    "resubmission": [[("part-exceeds-total", "error", "Данные", "D30"),
                      ("total-zero", "warning", "Данные", "D29")], []],
}
VERDICTS = {"number-as-text": ["FAIL"], "part-above-total": ["FAIL"],
            "formula-pasted-over": ["FAIL"], "check-pasted-over": ["FAIL"],
            "missing-responsible": ["FAIL"], "late": ["PASS"], "resubmission": ["FAIL", "PASS"]}


def keys(result):
    return sorted((f.code, f.severity, f.sheet, f.cell) for f in result.findings)


@pytest.fixture(scope="module")
def small_round(tmp_path_factory):
    """One region per mistake scenario, one that sends nothing, three clean ones."""
    folder = tmp_path_factory.mktemp("round")
    regions = ["01", "10", "16", "22", "38", "50", "54", "66", "77", "78", "91"]
    plan = plan_round(PERIOD, 3, regions, missing=1)
    generate(PERIOD, folder / "templates", DEV_KEY, regions=regions)
    files = write_returns(plan, folder / "templates", folder / "returns")
    return plan, files


def test_plan_gives_every_scenario_and_the_missing(small_round):
    plan, files = small_round
    scenarios = Counter(r.scenario.id for r in plan.regions)
    assert scenarios == Counter({**{i: 1 for i in IDS}, "missing": 1, "clean": 3})
    assert plan.missing == tuple(r.code for r in plan.regions if r.scenario is MISSING)
    assert len(files) == len(plan.sends) == 7 + 1 + 3  # the resubmission sends twice
    assert [f.send for f in files] == list(plan.sends)


@pytest.mark.parametrize("scenario", IDS)
def test_each_mistake_gives_exactly_its_findings(small_round, scenario):
    _, files = small_round
    mine = [f for f in files if f.send.scenario == scenario]
    assert [f.send.version for f in mine] == list(range(1, len(BY_HAND[scenario]) + 1))
    for planned, by_hand, verdict in zip(mine, BY_HAND[scenario], VERDICTS[scenario],
                                         strict=True):
        result = validate_file(planned.path, DEV_KEY, allow_dev_key=True)
        assert planned.expected.keys() == sorted(by_hand)
        assert (result.verdict, keys(result)) == (verdict, sorted(by_hand)), [
            (f.code, f.message) for f in result.findings]
        assert planned.expected.verdict == verdict


def test_clean_regions_pass(small_round):
    _, files = small_round
    for planned in files:
        if planned.send.scenario == "clean":
            result = validate_file(planned.path, DEV_KEY, allow_dev_key=True)
            assert planned.expected.verdict != "FAIL"
            assert (result.verdict, keys(result)) == (planned.expected.verdict,
                                                      planned.expected.keys())


def test_receipt_times(small_round):
    plan, files = small_round
    assert plan.deadline == dt.date(2020, 10, 15)
    assert plan.deadline_at == dt.datetime(2020, 10, 15, 20, 59, 59, tzinfo=dt.UTC)
    times = [s.received_at for s in plan.sends]
    assert times == sorted(times) and all(t.tzinfo == dt.UTC for t in times)
    for send in plan.sends:
        assert send.late == (send.scenario == "late")
        assert send.received_at.date() > plan.issued
    first, second = [s for s in plan.sends if s.scenario == "resubmission"]
    assert first.received_at < second.received_at and not second.late
    assert (first.filename, second.filename) == (f"cos_{PERIOD}_{first.region_code}.xlsm",
                                                 f"cos_{PERIOD}_{first.region_code}_v2.xlsm")
    for planned in files:
        assert planned.path.stat().st_mtime == planned.send.received_at.timestamp()


def test_final_accepted_is_the_last_accepted_file(small_round):
    plan, _ = small_round
    accepted = plan.final_accepted()
    resubmitted = plan.region(next(r.code for r in plan.regions
                                   if r.scenario.id == "resubmission"))
    assert accepted[resubmitted.code].version == 2
    assert set(accepted) == {r.code for r in plan.regions
                             if r.scenario.id in ("clean", "late", "resubmission")}


def test_the_plan_is_reproducible():
    a, b = plan_round(PERIOD, 11), plan_round(PERIOD, 11)
    assert a == b
    assert [r.scenario.id for r in a.regions] != [r.scenario.id for r in
                                                   plan_round(PERIOD, 12).regions]


@pytest.mark.slow
def test_whole_round(tmp_path):
    """85 regions: 7 with mistakes, 2 missing, the rest clean; every file as expected."""
    plan = plan_round(PERIOD, 0)
    counts = Counter(r.scenario.id for r in plan.regions)
    assert counts["clean"] == 85 - 7 - 2 and counts["missing"] == 2
    generate(PERIOD, tmp_path / "templates", DEV_KEY)
    files = write_returns(plan, tmp_path / "templates", tmp_path / "returns")
    verdicts = Counter()
    for planned in files:
        result = validate_file(planned.path, DEV_KEY, allow_dev_key=True)
        assert (result.verdict, keys(result)) == (planned.expected.verdict,
                                                  planned.expected.keys()), planned.send.region_code
        verdicts[result.verdict] += 1
    assert verdicts["FAIL"] == 6  # five mistakes that stay, the first resubmitted file
    assert verdicts["PASS"] > 60


def test_expected_verdict_follows_the_severities():
    error = ExpectedFinding("value-missing", "error", "resp_name")
    warning = ExpectedFinding("target-not-met", "warning", "IND_E4_01_05")
    info = ExpectedFinding("target-not-met", "info", "IND_E4_01_05")
    assert Expected.of([]).verdict == "PASS"
    assert Expected.of([info]).verdict == "PASS"
    assert Expected.of([info, warning]).verdict == "PASS_WITH_WARNINGS"
    assert Expected.of([warning, error]).verdict == "FAIL"


def test_scenarios_can_be_chosen_and_regions_can_be_few():
    plan = plan_round(PERIOD, 0, ["77", "78"], scenarios=["late"], missing=0)
    assert sorted(r.scenario.id for r in plan.regions) == ["clean", "late"]
    plan = plan_round(PERIOD, 0, ["77"])
    assert len(plan.regions) == 1 and plan.regions[0].scenario.id in IDS
