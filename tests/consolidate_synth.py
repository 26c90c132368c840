"""Synthetic submissions for the consolidation tests and bench/consolidate.py: seeded, plausible,
consistent with the form's rules ("of them" never above its total)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Mapping

from cos_xl.findings import Finding
from cos_xl.regions import regions_for_period
from cos_xl.spec import load_form
from cos_xl.submission import Submission

FORM = load_form()
PERIOD = "2020Q3"
BASE_TIME = dt.datetime(2020, 10, 5, 9, 0, tzinfo=dt.UTC)


def random_values(rng: random.Random, scale: float = 1.0) -> dict[str, object]:
    """One unit's inputs: totals of a region (÷ ``scale`` for a municipality), parts ≤ totals."""
    def total(lo: int, hi: int) -> int:
        return max(1, int(rng.randint(lo, hi) / scale))

    def part(of: int, lo: float = 0.0, hi: float = 1.0) -> int:
        return int(of * rng.uniform(lo, hi))

    v: dict[str, object] = {}
    for group, (s_lo, s_hi), (o_lo, o_hi) in (("go", (30_000, 1_500_000), (80, 1_800)),
                                              ("do", (10_000, 700_000), (10, 400)),
                                              ("spo", (2_000, 200_000), (5, 120))):
        students, orgs = total(s_lo, s_hi), total(o_lo, o_hi)
        v[f"students_{group}"], v[f"orgs_{group}"] = students, orgs
        v[f"e403_{group}"] = part(students, 0.3, 1.0)
        v[f"e404_{group}"] = part(students, 0.1, 0.9)
        v[f"e405_{group}"] = part(orgs, 0.2, 1.0)
    v["e407_go"] = part(v["students_go"], 0.0, 0.5)
    v["e407_spo"] = part(v["students_spo"], 0.0, 0.5)
    v["e40105_go"] = part(v["orgs_go"], 0.7, 1.0)
    v["e40105_do"] = part(v["orgs_do"], 0.6, 1.0)
    v["teachers_go"] = max(1, v["students_go"] // rng.randint(10, 18))
    v["e408_go"] = part(v["teachers_go"], 0.1, 0.8)
    v["e40107"] = int(rng.randint(0, 400) / scale)
    v["e40111_orgs_go"] = part(v["orgs_go"], 0.0, 0.5) if rng.random() < 0.9 else 0
    v["e40111_students"] = part(v["students_go"], 0.0, 0.1) if v["e40111_orgs_go"] else 0
    v.update({"resp_name": "Иванова Мария Петровна", "resp_position": "Главный специалист",
              "resp_phone": "+7 (495) 123-45-67", "resp_email": "ivanova@edu.example.ru"})
    for ind in FORM.indicators:
        v[ind.spec.is_name] = "Электронный журнал / электронный дневник"
    return v


def submission(unit: str, values: Mapping[str, object], *, version: int = 1,
               verdict: str = "PASS", findings: tuple[Finding, ...] = (),
               filename: str | None = None, received_at: dt.datetime | None = None,
               period: str = PERIOD, form_version: str | None = None) -> Submission:
    region_code = unit[:2]
    blob = json.dumps({"unit": unit, "version": version, "values": dict(values)},
                      sort_keys=True, ensure_ascii=False).encode("utf-8")
    return Submission(
        region_code=region_code, period=period, form_id=FORM.id,
        form_version=form_version or FORM.version, version=version,
        sha256=hashlib.sha256(blob).hexdigest(), size=len(blob) + 20_000,
        filename=filename or f"cos_{period}_{region_code}.xlsm",
        received_at=received_at or BASE_TIME + dt.timedelta(minutes=int(unit[:2]) * 7 + version),
        verdict=verdict, findings=findings, values=dict(values))  # type: ignore[arg-type]


def warning(code: str, severity: str = "warning") -> Finding:
    return Finding(code=code, severity=severity, message=f"Тестовое замечание {code}")  # type: ignore[arg-type]


def national_round(seed: int = 2020, missing: int = 2, rejected: int = 2
                   ) -> tuple[dict[str, Submission], dict[str, Submission]]:
    """The 85 regions of 2020Q3: ``missing`` send nothing, ``rejected`` only a failed file, the
    rest an accepted one (some with warnings)."""
    rng = random.Random(seed)
    codes = [r.code for r in regions_for_period(2020, 3)]
    absent = rng.sample(codes, missing + rejected)
    accepted, failed = {}, {}
    for code in codes:
        values = random_values(rng)
        if code in absent[:missing]:
            continue
        if code in absent[missing:]:
            failed[code] = submission(code, values, verdict="FAIL",
                                      findings=(warning("part-exceeds-total", "error"),))
            continue
        findings = tuple(warning(c) for c in rng.sample(
            ["students-per-org", "pupils-per-teacher", "target-not-met"], rng.randint(0, 2)))
        if rng.random() < 0.2:
            findings += (warning("target-not-met", "info"),)
        verdict = "PASS_WITH_WARNINGS" if any(f.severity == "warning" for f in findings) \
            else "PASS"
        accepted[code] = submission(code, values, verdict=verdict, findings=findings,
                                    version=rng.randint(1, 3))
    return accepted, failed


def municipal_round(count: int = 2_500, seed: int = 2500) -> dict[str, Submission]:
    """``count`` accepted municipal units spread over the 85 regions, keyed ``RR-NNN``."""
    rng = random.Random(seed)
    codes = [r.code for r in regions_for_period(2020, 3)]
    out = {}
    for i in range(count):
        code = codes[i % len(codes)]
        unit = f"{code}-{i // len(codes):03d}"
        out[unit] = submission(unit, random_values(rng, scale=30), verdict="PASS")
    return out
