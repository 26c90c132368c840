"""The generator: every region's file, the fast path equals the full builder byte for byte,
previous values, the CLI and its errors."""

from __future__ import annotations

import json
import re
import zipfile

import openpyxl
import pytest
from typer.testing import CliRunner

from cos_xl.campaign import Campaign
from cos_xl.cli import app
from cos_xl.generate import generate, template_context
from cos_xl.periods import Period
from cos_xl.regions import get_region, regions_for_period
from cos_xl.signing import ENV_VAR
from cos_xl.spec import load_form
from cos_xl.template.batch import PeriodBatch
from cos_xl.template.builder import build_workbook
from helpers import DEV_KEY

runner = CliRunner()


@pytest.mark.parametrize("period", ["2020Q3", "2023Q1"])
def test_skeleton_render_equals_full_build_for_every_region(period):
    form, campaign, parsed = load_form(), Campaign(), Period.parse(period)
    regions = regions_for_period(parsed.year, parsed.quarter)
    batch = PeriodBatch(template_context(form, campaign, parsed, regions[0]), DEV_KEY)
    for region in regions:
        full, _ = build_workbook(template_context(form, campaign, parsed, region), DEV_KEY)
        assert batch.render(region) == full, region.code


def test_skeleton_refuses_a_text_that_could_collide():
    form, parsed = load_form(), Period.parse("2020Q3")
    ctx = template_context(form, Campaign(), parsed, get_region("77"))
    batch = PeriodBatch(ctx, DEV_KEY)
    clash = get_region("50").model_copy(update={"federal_district": "Показатель"})
    assert batch.render(clash) is None  # "Показатель" is a header text of the workbook


def test_generate_writes_one_file_per_region(tmp_path):
    result = generate("2020Q3", tmp_path, DEV_KEY)
    names = sorted(p.name for p in result.paths)
    assert len(names) == 85
    assert all(re.fullmatch(r"cos_2020Q3_\d\d\.xlsm", n) for n in names)
    assert "cos_2020Q3_93.xlsm" not in names
    assert not list(tmp_path.glob(".cos-*"))  # no temporary file left behind
    assert len(generate("2023Q1", tmp_path / "b", DEV_KEY).paths) == 89


def test_previous_values_are_prefilled(tmp_path):
    previous = {"77": (Period.parse("2020Q2"), {"E4.03": 41.5, "E4.01.07": 120.0})}
    result = generate("2020Q3", tmp_path, DEV_KEY, regions=["77", "50"], previous=previous)
    wb = openpyxl.load_workbook(result.paths[1])  # 77 comes after 50
    def value(name):
        (sheet, cell), = wb.defined_names[name].destinations
        return wb[sheet][cell.replace("$", "")].value
    assert value("PREV_E4_03") == 41.5 and value("PREV_E4_01_07") == 120
    assert value("PREV_SAME_YEAR") == 1
    manifest = json.loads(wb["_manifest"]["B1"].value)
    assert manifest["previous"] == {"period": "2020Q2", "values": {"E4.01.07": 120.0, "E4.03": 41.5}}
    other = openpyxl.load_workbook(result.paths[0])
    (sheet, cell), = other.defined_names["PREV_E4_03"].destinations
    assert other[sheet][cell.replace("$", "")].value is None


def test_cli_generate_with_env_key(tmp_path):
    result = runner.invoke(app, ["generate", "--period", "2020Q3", "--out", str(tmp_path),
                                 "--regions", "77,50"], env={ENV_VAR: "k" * 32})
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".templates-cos-xl.json", "cos_2020Q3_50.xlsm", "cos_2020Q3_77.xlsm"]
    manifest = json.loads(openpyxl.load_workbook(tmp_path / "cos_2020Q3_77.xlsm")
                          ["_manifest"]["B1"].value)
    assert manifest["dev_key"] is False and manifest["macros"] is True


def test_cli_no_macros_writes_xlsx_without_vba(tmp_path):
    result = runner.invoke(app, ["generate", "--period", "2020Q3", "--out", str(tmp_path),
                                 "--regions", "77", "--dev-key", "--no-macros"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "cos_2020Q3_77.xlsx"
    with zipfile.ZipFile(path) as archive:
        assert not [n for n in archive.namelist() if "vba" in n.lower()]
        assert b"macroEnabled" not in archive.read("[Content_Types].xml")
    assert json.loads(openpyxl.load_workbook(path)["_manifest"]["B1"].value)["macros"] is False


@pytest.mark.parametrize("args, message", [
    (["--period", "2020Q3"], "ключ подписи"),
    (["--period", "2020Q9", "--dev-key"], "Неверный отчётный период"),
    (["--period", "2020Q3", "--dev-key", "--regions", "93"], "отчитывается с 2023Q1"),
    (["--period", "2020Q3", "--dev-key", "--regions", "98"], "Неизвестный код региона"),
])
def test_cli_errors_are_short_and_exit_2(tmp_path, args, message):
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "o"), *args], env={ENV_VAR: ""})
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())
