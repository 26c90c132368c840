"""The whole round of ``cos-xl demo``: generate → fill (with mistakes) → intake → status →
consolidate → reports; and the same round with the regions' files filled and saved by
LibreOffice (the end-to-end test of issue 6).

The expected outcome of every file comes from the plan (what each simulated region did), the
national figures are recomputed here from the accepted files' values with METHODOLOGY.md's
formulas written out by hand, not with the form's compiled expressions."""

from __future__ import annotations

import json
import math
import zipfile

import openpyxl
import pytest
from conftest import require_tool
from typer.testing import CliRunner

from cos_xl.cli import app
from cos_xl.demo.round import DemoError, run_demo
from cos_xl.office import libreoffice_available
from cos_xl.periods import Period
from cos_xl.regions import regions_for_period

# METHODOLOGY.md, "Indicators": numerator and denominator terms of each indicator.
SHARES = {
    "E4.03": (("e403_go", "e403_do", "e403_spo"), ("students_go", "students_do", "students_spo")),
    "E4.04": (("e404_go", "e404_do", "e404_spo"), ("students_go", "students_do", "students_spo")),
    "E4.05": (("e405_go", "e405_do", "e405_spo"), ("orgs_go", "orgs_do", "orgs_spo")),
    "E4.07": (("e407_go", "e407_spo"), ("students_go", "students_spo")),
    "E4.08": (("e408_go",), ("teachers_go",)),
    "E4.01.05": (("e40105_go", "e40105_do"), ("orgs_go", "orgs_do")),
}
COUNTS = {"E4.01.07": "e40107", "E4.01.11": "e40111_students"}


def national_by_hand(values: list[dict]) -> dict[str, float | None]:
    def total(ids):
        return sum(float(v.get(i) or 0) for v in values for i in ids)

    out: dict[str, float | None] = {}
    for code, (num, den) in SHARES.items():
        d = total(den)
        out[code] = total(num) / d * 100 if d else None
    for code, input_id in COUNTS.items():
        out[code] = total((input_id,))
    return out


def check_round(result, *, cells: bool = True) -> None:
    """Every file got the verdict and findings its region's plan says; the ledger, the status
    and the national report agree with the plan."""
    plan = result.plan
    assert len(result.outcomes) == len(plan.sends) == len(result.files)
    for planned, outcome in zip(result.files, result.outcomes, strict=True):
        send = planned.send
        got = sorted((f.code, f.severity, f.sheet, f.cell) for f in outcome.findings)
        assert outcome.verdict == send.expected.verdict, (send.filename, send.scenario, got)
        if cells:
            assert got == send.expected.keys(), (send.filename, send.scenario)
        assert outcome.status == "new" and outcome.version == send.version

    states = {row.region_code: row for row in result.status}
    final = plan.final_accepted()
    for region in plan.regions:
        row = states[region.code]
        if not region.sends:
            assert row.state == "not_received" and row.overdue
        elif region.code not in final:
            assert row.state == "rejected"
        else:
            assert row.state in ("accepted", "accepted_with_warnings")
            assert row.counted_version == final[region.code].version
            assert row.overdue == final[region.code].late

    report = result.report
    assert {u.region_code for u in report.units} == set(final)
    sent = {r.code for r in plan.regions if r.sends}
    period = Period.parse(plan.period)
    everyone = {r.code for r in regions_for_period(period.year, period.quarter)}
    assert {a.region_code for a in report.missing} == everyone - sent
    assert set(plan.missing) <= everyone - sent
    assert {a.region_code for a in report.rejected} == {
        r.code for r in plan.regions if r.sends and r.code not in final}
    expected = national_by_hand([dict(send.values) for send in final.values()])
    for code, value in expected.items():
        got = report.national_row(code).figure.value
        assert (got is None and value is None) or math.isclose(got, value, rel_tol=1e-12), code

    written = json.loads(result.paths["Национальная сводка (JSON)"].read_text("utf-8"))
    assert written["period"] == plan.period
    assert sorted(written["missing"]) == sorted(everyone - sent)
    for code, value in expected.items():
        assert math.isclose(written["indicators"][code]["value"], value, rel_tol=1e-9)
    with zipfile.ZipFile(result.paths["Национальная сводка (Excel)"]) as z:
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) == len(SHARES) + 2
    annotated = sorted(p.name for p in result.paths["Книги с замечаниями"].iterdir())
    assert len(annotated) == sum(1 for o in result.outcomes
                                 if any(f.severity != "info" for f in o.findings))
    report_rows = openpyxl.load_workbook(result.paths["Отчёт о проверке"], read_only=True)
    assert report_rows.worksheets[0].max_row >= 1 + sum(len(o.findings) for o in result.outcomes)


@pytest.mark.slow
def test_demo_round_without_an_office_program(tmp_path):
    result = run_demo(tmp_path / "demo", seed=0)
    assert len(result.plan.regions) == 85
    assert {s.scenario for s in result.plan.sends} >= {
        "number-as-text", "part-above-total", "formula-pasted-over", "missing-responsible",
        "late", "resubmission"}
    check_round(result)
    assert sum(result.seconds.values()) < 60  # the README's goal is 20 s: see bench/run.py


def test_demo_round_is_reproducible_and_keeps_user_files(tmp_path):
    regions = ["77", "50", "78", "16", "66", "54", "23", "02", "24", "61", "63", "52"]
    first = run_demo(tmp_path / "a", seed=7, regions=regions)
    again = run_demo(tmp_path / "a", seed=7, regions=regions)  # a demo folder is reused
    check_round(again)
    a = first.paths["Национальная сводка (JSON)"]
    assert a.read_bytes() == again.paths["Национальная сводка (JSON)"].read_bytes()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "отчёт.xlsx").write_bytes(b"not ours")
    with pytest.raises(DemoError, match="не пуста"):
        run_demo(other, regions=regions)
    assert (other / "отчёт.xlsx").read_bytes() == b"not ours"


def test_demo_command_prints_the_round_and_lists_every_path(tmp_path):
    out = tmp_path / "round"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    for text in ("синтетические", "Национальные значения", "E4.01.11", "не получен",
                 "Книги с замечаниями", str(out / "ledger.sqlite")):
        assert text in result.output, text
    assert (out / "national" / "national_2020Q3.xlsx").is_file()


def test_demo_through_libreoffice_without_it_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("COS_XL_SOFFICE", str(tmp_path / "no-soffice"))
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d"),
                                      "--through-libreoffice"])
    assert result.exit_code == 2
    assert "LibreOffice" in result.output and "установите" in result.output.lower()
    assert not (tmp_path / "d").exists()  # refused before anything was written


@pytest.mark.libreoffice
@pytest.mark.slow
def test_round_through_libreoffice(tmp_path):
    """Issue 6's end-to-end test: each region's file typed and saved by LibreOffice headless;
    what should be accepted is, what should be rejected is, with the right codes and cells."""
    require_tool(libreoffice_available(), "LibreOffice headless (libreoffice-calc-nogui, python3-uno)")
    result = run_demo(tmp_path / "lo", seed=0, through_libreoffice=True)  # all 85 regions
    assert len(result.files) == 84
    assert {s.scenario for s in result.plan.sends} >= {
        "number-as-text", "part-above-total", "formula-pasted-over", "missing-responsible",
        "late", "resubmission"}
    check_round(result)
