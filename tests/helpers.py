"""Helpers shared by the tests: building workbooks of the default form, running the real
``cos-xl`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cos_xl.campaign import Campaign
from cos_xl.generate import template_context
from cos_xl.periods import Period
from cos_xl.regions import get_region
from cos_xl.signing import resolve_key
from cos_xl.spec import load_form
from cos_xl.template.builder import build_workbook

DEV_KEY = resolve_key(None, dev_key=True, env={})


def build(region: str = "77", period: str = "2020Q3", campaign: Campaign | None = None,
          previous=None, macros: bool = True) -> tuple[bytes, dict]:
    form = load_form()
    campaign = campaign or Campaign()
    ctx = template_context(form, campaign, Period.parse(period), get_region(region), previous,
                           macros)
    return build_workbook(ctx, DEV_KEY)


def write(tmp_path: Path, name: str = "cos_2020Q3_77.xlsm", **kwargs) -> tuple[Path, dict]:
    data, manifest = build(**kwargs)
    path = tmp_path / name
    path.write_bytes(data)
    return path, manifest


def cos_xl(*args: str, cwd: Path | None = None, env: dict | None = None,
           columns: int = 200) -> subprocess.CompletedProcess:
    """``cos-xl ARGS`` through the real entry point (``python -m cos_xl.cli``), in ``cwd``,
    without a ``COS_XL_DB`` from the caller's environment, ``columns`` wide."""
    environ = {k: v for k, v in os.environ.items() if k != "COS_XL_DB"}
    environ.update({"COLUMNS": str(columns), **(env or {})})
    return subprocess.run([sys.executable, "-m", "cos_xl.cli", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=300)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The one error line of a command that failed cleanly (exit 2, no traceback)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Ошибка:")]
    assert len(errors) == 1, result.stderr
    return " ".join(result.stderr[result.stderr.index("Ошибка:"):].split())
