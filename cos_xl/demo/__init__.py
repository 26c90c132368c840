"""A full reporting round on SYNTHETIC data, without an office program or through one.

- :mod:`cos_xl.demo.sample` — plausible, seeded, clearly synthetic inputs for every region;
- :mod:`cos_xl.fill` (outside the demo: the rollup uses it too) — a template filled in a few
  ms by patching its sheet XML;
- :mod:`cos_xl.demo.mistakes` — the typical mistakes as data, the plan of a round (who sends
  what, when, with which expected verdict and findings) and the returned files;
- :mod:`cos_xl.demo.libreoffice` — the same files filled and saved by LibreOffice headless.

    plan = plan_round("2020Q3", seed=0)
    files = write_returns(plan, templates_dir, returns_dir)   # PlannedFile: path + expected
"""

from cos_xl.fill import fill_workbook, read_manifest
from cos_xl.demo.mistakes import (
    SCENARIOS,
    Expected,
    ExpectedFinding,
    PlannedFile,
    RoundPlan,
    Scenario,
    Send,
    plan_round,
    write_returns,
)
from cos_xl.demo.sample import SYNTHETIC_NOTE, national_sums, sample_explanations, sample_inputs

__all__ = [
    "SCENARIOS",
    "SYNTHETIC_NOTE",
    "Expected",
    "ExpectedFinding",
    "PlannedFile",
    "RoundPlan",
    "Scenario",
    "Send",
    "fill_workbook",
    "national_sums",
    "plan_round",
    "read_manifest",
    "sample_explanations",
    "sample_inputs",
    "write_returns",
]
