"""bench/units.py runs end to end on a few units, so the script cannot rot: generate, fill,
intake, rollup, and its check that the rolled-up figures are the sums of the units'."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_units_runs_and_the_sums_match():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "units.py"), "--units", "20",
                           "--naive-builds", "5", "--naive-intake", "5"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for stage in ("generate,", "naive: full builder", "intake, sqlite", "naive intake",
                  "rollup into the federal template", "naive rollup"):
        assert any(line.startswith(stage) for line in lines), (stage, done.stdout)
    check = next(line for line in lines if line.startswith("check:"))
    assert "20 units' figures" in check and " match " in check, check
    assert check.endswith("PASS"), check
    memory = next(line for line in lines if line.startswith("intake memory"))
    assert "after 4:" in memory and "20:" in memory, memory
    assert "for 5 of 5" in done.stdout  # the full builder's bytes are the fast path's
