"""The national report's files, written and read back: the workbook (sheets, values, native
charts, determinism, atomic write, hostile texts), the JSON (schema, values) and the CSV
(injection-safe, BOM, numbers), and docs/national.md up to date."""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
import re
import time
import zipfile
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from consolidate_synth import FORM, PERIOD, national_round, random_values, submission

from cos_xl.campaign import Campaign
from cos_xl.consolidate import (
    JSON_SCHEMA, consolidate_period, sheet_names, write_csv, write_json, write_xlsx,
)
from cos_xl.consolidate import docs
from cos_xl.consolidate.exports import CSV_COLUMNS, csv_number, csv_text_cell

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(1,2)",
           "\tcmd", "\rcmd"]
SHEETS = ["Сводка", "Регионы", "Не сданы и отклонены", "Предупреждения",
          *[f"Диаграмма {ind.spec.code}" for ind in FORM.indicators], "Воспроизводимость"]


@pytest.fixture(scope="module")
def report():
    accepted, rejected = national_round(seed=21, missing=2, rejected=2)
    return consolidate_period(FORM, Campaign(), PERIOD, accepted, rejected)


@pytest.fixture(scope="module")
def xlsx(report, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("national") / "national.xlsx"
    write_xlsx(report, path)
    return path


def test_workbook_sheets_and_summary_values(report, xlsx):
    assert sheet_names(report) == SHEETS
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == SHEETS
    ws = wb["Сводка"]
    header = [c.value for c in ws[6]]
    assert header[:8] == ["Код", "Показатель", "Ед. изм.", "Значение", "Числитель",
                          "Знаменатель", "Цель", "Выполнено"]
    rows = {row[0]: row for row in ws.iter_rows(min_row=7, max_row=14, values_only=True)}
    for line in report.national:
        code, fig = line.indicator.code, line.figure
        got = rows[code]
        assert got[3] == pytest.approx(fig.value) and got[4] == fig.numerator
        assert got[5] == fig.denominator and got[6] == line.target
        assert got[7] == {True: "да", False: "нет", None: None}[line.met]
    texts = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("Проверка национального результата E4.01.11" in t for t in texts)
    parts = report.national_row("E4.01.11").parts
    for part in parts:
        row = next(r for r in ws.iter_rows(values_only=True) if r[0] == part.title)
        assert row[3] == pytest.approx(part.value) and row[6] == part.target
        assert row[7] == ("да" if part.met else "нет")


def test_regions_sheet_has_districts_units_and_ranks(report, xlsx):
    ws = openpyxl.load_workbook(xlsx)["Регионы"]
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert rows[0][1] == "Российская Федерация"
    names = [r[1] for r in rows]
    for district in report.districts:
        assert f"{district.name} федеральный округ" in names
    first = 5 + 4 * [i.code for i in report.indicators].index("E4.03")
    by_code = {r[0]: r for r in rows if r[0]}
    for unit in report.units:
        fig = unit.figures["E4.03"]
        got = by_code[unit.unit]
        assert got[3] == "принят" and got[4] == unit.submission.version
        assert got[first:first + 4] == (pytest.approx(fig.value), fig.numerator,
                                        fig.denominator, fig.rank)
    for absent in [*report.missing, *report.rejected]:
        assert by_code[absent.unit][3] in ("не получен", "отклонён")
        assert by_code[absent.unit][first] is None
    # every region of the period appears once, under its district
    assert len(by_code) == 85
    district_row = next(r for r in rows if r[1] == "Центральный федеральный округ")
    central = next(d for d in report.districts if d.name == "Центральный")
    assert district_row[first] == pytest.approx(central.figures["E4.03"].value)


def test_absent_and_warnings_sheets(report, xlsx):
    wb = openpyxl.load_workbook(xlsx)
    listed = {r[0]: r for r in wb["Не сданы и отклонены"].iter_rows(min_row=4, values_only=True)}
    assert set(listed) == {a.unit for a in [*report.missing, *report.rejected]}
    for absent in report.rejected:
        assert listed[absent.unit][3] == "отклонён" and "part-exceeds-total" in listed[
            absent.unit][8]
    warnings = {r[0]: r for r in wb["Предупреждения"].iter_rows(min_row=5, values_only=True)}
    for item in report.warnings:
        assert warnings[item.code][1:5] == (item.title, item.warnings, item.explained,
                                            item.units)


def test_one_native_chart_per_indicator_sorted_with_target_line(report, xlsx):
    with zipfile.ZipFile(xlsx) as package:
        charts = sorted(n for n in package.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n))
        assert len(charts) == len(report.indicators)
        xml = {n: package.read(n).decode("utf-8") for n in charts}
    assert all("<c:barChart>" in text for text in xml.values())
    with_line = [n for n, text in xml.items() if "<c:lineChart>" in text]
    assert len(with_line) == sum(1 for i in report.indicators if i.kind == "share")
    assert sum("<c:v>Цель</c:v>" in text for text in xml.values()) == 1  # only E4.01.05
    wb = openpyxl.load_workbook(xlsx)
    for line in report.national:
        ws = wb[f"Диаграмма {line.indicator.code}"]
        values = [r[3] for r in ws.iter_rows(min_row=5, values_only=True) if r[3] is not None]
        assert values == sorted(values, reverse=True)
        assert len(values) == line.units
        if line.indicator.code == "E4.01.05":
            assert ws.cell(4, 5).value == "Цель" and ws.cell(5, 5).value == 100


def test_workbook_is_deterministic(report, tmp_path):
    write_xlsx(report, tmp_path / "a.xlsx")
    time.sleep(1.1)  # a clock in the output would show
    accepted, rejected = national_round(seed=21, missing=2, rejected=2)
    shuffled = consolidate_period(FORM, Campaign(), PERIOD, dict(reversed(accepted.items())),
                                  dict(reversed(rejected.items())))
    write_xlsx(shuffled, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as package:
        core = package.read("docProps/core.xml").decode("utf-8")
    stamp = max(ref.received_at for ref in report.reproducibility.inputs)
    assert stamp.strftime("%Y-%m-%dT%H:%M:%SZ") in core


def test_writes_are_atomic_and_replace(report, tmp_path):
    target = tmp_path / "out" / "national.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"old")
    write_xlsx(report, target)
    write_json(report, tmp_path / "out" / "national.json")
    write_csv(report, tmp_path / "out" / "national.csv")
    assert zipfile.is_zipfile(target)
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "national.csv", "national.json", "national.xlsx"]


def hostile_report():
    rng = random.Random(31)
    accepted = {code: submission(code, random_values(rng), filename=name)
                for code, name in zip(["01", "02", "03", "04", "05", "06"], HOSTILE, strict=True)}
    rejected = {"07": submission("07", random_values(rng), verdict="FAIL",
                                 filename="=1+1.xlsm")}
    return consolidate_period(FORM, Campaign(), PERIOD, accepted, rejected)


def test_texts_from_regions_stay_texts_in_the_workbook(tmp_path):
    write_xlsx(hostile_report(), tmp_path / "n.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "n.xlsx")
    # XlsxWriter stores a CR as Excel's escape _x000D_, which openpyxl does not decode
    wanted = [text.replace("\r", "_x000D_") for text in [*HOSTILE, "=1+1.xlsm"]]
    cells = [c for row in wb["Воспроизводимость"].iter_rows() for c in row
             if isinstance(c.value, str) and c.value in wanted]
    assert len(cells) == len(HOSTILE) + 1
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(tmp_path / "n.xlsx") as package:
        sheets = "".join(package.read(n).decode() for n in package.namelist()
                         if n.startswith("xl/worksheets/"))
    assert "<f>" not in sheets and "hyperlink" not in sheets.lower()


def test_json_follows_the_schema_and_the_issue_shape(report, tmp_path):
    path = tmp_path / "national.json"
    write_json(report, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(JSON_SCHEMA)
    jsonschema.validate(data, JSON_SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["schema"] == "cos-xl/national/1" and data["period"] == PERIOD
    for line in report.national:
        got = data["indicators"][line.indicator.code]
        assert {"value", "numerator", "denominator", "target", "met"} <= set(got)
        assert got["value"] == line.figure.value and got["met"] == line.met
    e403 = data["indicators"]["E4.03"]
    assert e403["value"] == pytest.approx(e403["numerator"] / e403["denominator"] * 100)
    assert isinstance(e403["numerator"], int)  # whole numbers as integers
    assert data["indicators"]["E4.01.07"]["denominator"] is None
    assert list(data["regions"]) == [u.unit for u in report.units]
    for unit in report.units:
        for code, fig in unit.figures.items():
            got = data["regions"][unit.unit][code]
            assert (got["value"], got["numerator"], got["denominator"], got["rank"]) == (
                fig.value, fig.numerator, fig.denominator, fig.rank)
    assert data["missing"] == [a.region_code for a in report.missing]
    assert data["rejected"] == [a.unit for a in report.rejected]
    assert set(data["e40111_parts"]) == {"students", "subjects", "org_share"}
    assert len(data["reproducibility"]["inputs"]) == len(report.reproducibility.inputs)
    assert data["reproducibility"]["inputs"][0]["received_at"].endswith("Z")


def test_json_schema_refuses_what_it_should():
    bad = {"schema": "cos-xl/national/1", "period": "2020-3"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, JSON_SCHEMA, cls=jsonschema.Draft202012Validator)


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_is_injection_safe_and_numbers_stay_numbers(tmp_path):
    report = hostile_report()
    write_csv(report, tmp_path / "n.csv")
    rows = read_csv(tmp_path / "n.csv")
    assert rows[0] == [name for name, _ in CSV_COLUMNS]
    files = {row[-1] for row in rows[1:] if row[1] == "субъект"}
    assert files == {"'" + name for name in HOSTILE}
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    value = {(r[2], r[5]): r for r in rows[1:]}
    unit = report.units[0]
    fig = unit.figures["E4.03"]
    got = value[(unit.unit, "E4.03")]
    assert float(got[7].replace(",", ".")) == fig.value  # exact round trip
    assert got[8] == str(int(fig.numerator)) and got[10] == str(fig.rank)
    assert csv_text_cell("-5") == "'-5" and csv_text_cell("Москва") == "Москва"
    assert csv_number(-5.0) == "-5" and csv_number(12.5) == "12,5"
    assert csv_number(3.3333333333333335e-05) == "0,000033333333333333335"


def test_csv_levels_cyrillic_and_international_form(report, tmp_path):
    write_csv(report, tmp_path / "n.csv")
    rows = read_csv(tmp_path / "n.csv")
    levels = [r[1] for r in rows[1:]]
    n = len(report.indicators)
    assert levels == ["страна"] * n + ["федеральный округ"] * n * 8 + ["субъект"] * n * len(
        report.units)
    country = {r[5]: r for r in rows[1:1 + n]}
    assert country["E4.01.05"][11] == "100" and country["E4.01.05"][12] in ("да", "нет")
    assert country["E4.03"][11] == "" and country["E4.03"][12] == ""
    assert "Центральный" in {r[3] for r in rows}
    write_csv(report, tmp_path / "en.csv", delimiter=",", decimal=".")
    text = (tmp_path / "en.csv").read_bytes().decode("utf-8-sig")
    first = next(csv.reader(io.StringIO(text)))
    assert first[0] == "Период" and len(first) == len(CSV_COLUMNS)
    with pytest.raises(ValueError):
        write_csv(report, tmp_path / "x.csv", delimiter=",", decimal=",")


def test_docs_national_is_current():
    text = docs.DOC.read_text(encoding="utf-8")
    assert docs.render(text) == text, "run: python -m cos_xl.consolidate.docs"
    for name in JSON_SCHEMA["required"]:
        assert f'"{name}"' in text
