"""Helpers shared by the tests: building workbooks of the default form."""

from __future__ import annotations

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
