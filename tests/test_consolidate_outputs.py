"""The national report's files, written and read back: the workbook (sheets, values, native
charts, determinism, atomic write, hostile texts), the JSON (schema, values) and the CSV
(injection-safe, BOM, numbers), and docs/national.md up to date."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import random
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from conftest import require_tool
from consolidate_synth import FORM, PERIOD, national_round, random_values, submission

from cos_xl.campaign import Campaign
from cos_xl.consolidate import (
    JSON_SCHEMA, consolidate_period, sheet_names, write_csv, write_json, write_xlsx,
)
from cos_xl.consolidate import docs
from cos_xl.consolidate.exports import CSV_COLUMNS, csv_number, csv_text_cell
from cos_xl.consolidate.model import Figure, IndicatorInfo, NationalRow, TargetPart
from cos_xl.consolidate.xlsx import met_note
from cos_xl.consolidate.xlsx_format import PRINTABLE_WIDTH_PT
from cos_xl.office import find_soffice

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(1,2)",
           "\tcmd", "\rcmd"]
CHARTS = [f"Диаграмма {ind.spec.code}" for ind in FORM.indicators]
SHEETS = ["Сводка", "Регионы", "Не сданы и отклонены", "Предупреждения",
          "Предупреждения по субъектам", *[name for ind in FORM.indicators
            for name in (f"Диаграмма {ind.spec.code}", f"Рейтинг {ind.spec.code}")],
          "Воспроизводимость"]


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
    header = [c.value for c in ws[7]]
    assert header[:9] == ["Код", "Показатель", "Ед. изм.", "Значение", "Числитель",
                          "Знаменатель", "Цель", "Выполнено", "Пояснение"]
    rows = {row[0]: row for row in ws.iter_rows(min_row=8, max_row=15, values_only=True)}
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
    # only E4.01.05 has a per-region target; the lines are named with their value
    assert sum("<c:v>Цель: 100\u00a0%</c:v>" in text for text in xml.values()) == 1
    assert sum("<c:v>По стране: " in text for text in xml.values()) == len(with_line)
    # the lines' helper columns are hidden on the ranking sheet, so the chart plots hidden data
    assert not any('<c:plotVisOnly val="1"/>' in text for text in xml.values())
    # the legend names the lines only: the bars are the chart itself, no legend entry
    for text in xml.values():
        has_legend = "<c:legend>" in text
        assert has_legend == ("<c:lineChart>" in text)
        if has_legend:
            assert '<c:legendEntry><c:idx val="0"/><c:delete val="1"/>' in text
    wb = openpyxl.load_workbook(xlsx)
    assert [sheet.title for sheet in wb.chartsheets] == CHARTS  # one chart per sheet
    for line in report.national:
        ws = wb[f"Рейтинг {line.indicator.code}"]
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



# --- printing: A4 landscape, header rows on every page, page numbers, one page per chart ------

TITLE_ROWS = {"Сводка": "$7:$7", "Регионы": "$1:$2", "Не сданы и отклонены": "$3:$3",
              "Предупреждения": "$4:$4", "Предупреждения по субъектам": "$3:$3",
              **{f"Рейтинг {ind.spec.code}": "$4:$4" for ind in FORM.indicators}}
FOOTER = "Стр. &P из &N"


def _moscow(moment: dt.datetime) -> dt.datetime:
    return (moment.astimezone(dt.UTC) + dt.timedelta(hours=3)).replace(tzinfo=None)


def test_every_sheet_prints_a4_landscape_with_header_rows_and_page_numbers(report, xlsx):
    wb = openpyxl.load_workbook(xlsx)
    repro = wb["Воспроизводимость"]
    header_row = next(c.row for c in repro["A"] if c.value == "Единица")
    titles = {**TITLE_ROWS, "Воспроизводимость": f"${header_row}:${header_row}"}
    stamp = f"Данные на {_moscow(report.stamp):%d.%m.%Y %H:%M} (МСК)"
    assert set(titles) == {ws.title for ws in wb.worksheets}
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), ws.title
        assert ws.print_title_rows == titles[ws.title], ws.title
        assert ws.oddFooter.center.text == FOOTER and ws.oddFooter.left.text == "&A"
        assert ws.oddHeader.right.text == stamp
        margins = ws.page_margins
        assert 0.25 <= margins.left == margins.right <= 0.75
        assert margins.top > margins.header and margins.bottom > margins.footer
        if ws.title == "Регионы":
            continue  # bands of whole indicators at one scale: the next test
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, ws.title
    for sheet in wb.chartsheets:
        setup = sheet.pageSetup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)
        assert sheet.headerFooter.oddFooter.center.text == FOOTER


def _column_widths(ws) -> dict[int, float]:
    widths: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        for col in range(dim.min, dim.max + 1):
            widths[col] = dim.width
    return widths


def test_regions_print_in_bands_of_whole_indicators_that_fit_the_page(report, xlsx):
    """8 indicators × 4 columns do not fit one page readably: «Регионы» prints at one scale,
    in bands of whole indicators, «Код» and «Субъект» repeated on the left of each band."""
    ws = openpyxl.load_workbook(xlsx)["Регионы"]
    assert ws.print_title_cols == "$A:$B"
    assert not ws.sheet_properties.pageSetUpPr.fitToPage
    scale = ws.page_setup.scale
    assert 75 <= scale <= 100  # 10 pt prints at 7.5 pt or more
    breaks = [brk.id for brk in ws.col_breaks.brk]  # 0-based: the first column of a band
    starts = [5 + 4 * i for i in range(len(report.indicators))]
    assert breaks and set(breaks) <= set(starts[1:])
    for start in breaks:
        assert ws.cell(1, start + 1).value.startswith(report.indicators[(start - 5) // 4].code)
    widths = _column_widths(ws)
    last = 5 + 4 * len(report.indicators)

    def points(first: int, end: int) -> float:  # 1-based columns, Excel's 7 px per character
        return sum(round(widths[col] * 7) * 0.75 for col in range(first, end + 1))

    bands = list(zip([0, *breaks], [*breaks, last], strict=True))
    for number, (first, end) in enumerate(bands):
        width = points(first + 1, end) + (points(1, 2) if number else 0)
        assert width * scale / 100 <= PRINTABLE_WIDTH_PT, (number, width, scale)


def test_place_and_code_are_separate_columns(report, xlsx):
    wb = openpyxl.load_workbook(xlsx)
    labels = {u.unit: u.label for u in report.units}
    for line in report.national:
        ws = wb[f"Рейтинг {line.indicator.code}"]
        assert [c.value for c in ws[4]][:4] == ["Место", "Код", "Субъект (единица)", "Значение"]
        assert ws.column_dimensions["E"].hidden and ws.column_dimensions["E"].max == 6
        rows = list(ws.iter_rows(min_row=5, max_col=4, values_only=True))
        assert [r[1] for r in rows] != [] and all(labels[r[1]] == r[2] for r in rows)
        ranks = {u.unit: u.figures[line.indicator.code].rank for u in report.units}
        assert all(r[0] == ranks[r[1]] for r in rows)
        assert all(r[0] is None or isinstance(r[0], int) for r in rows)
    regions = wb["Регионы"]
    assert regions.cell(1, 1).value == "Код"
    assert [regions.cell(2, col).value for col in range(6, 10)] == [
        "Значение", "Числитель", "Знаменатель", "Место"]
    codes = [c.value for c in regions["A"][2:] if c.value]
    assert all(re.fullmatch(r"\d{2}", code) for code in codes)


def test_summary_says_why_e40111_is_not_met(report, xlsx):
    line = report.national_row("E4.01.11")
    students, subjects, share = line.parts
    # the fixture's round: enough children and schools, too few participating subjects
    assert students.met and share.met and not subjects.met and line.met is False
    ws = openpyxl.load_workbook(xlsx)["Сводка"]
    row = next(r for r in ws.iter_rows(min_row=8, values_only=True) if r[0] == "E4.01.11")
    assert row[6] == students.target and row[7] == "нет"
    assert row[8] == (f"не достигнута: субъектов-участников {subjects.value:.0f} "
                      f"(нужно не менее {subjects.target:.0f})")
    e40107 = next(r for r in ws.iter_rows(min_row=8, values_only=True) if r[0] == "E4.01.07")
    assert report.national_row("E4.01.07").met and e40107[7:9] == ("да", "достигнута")


def _row(parts: tuple[TargetPart, ...] = (), met: bool | None = None,
         value: float | None = 60.0, target: float | None = 100.0) -> NationalRow:
    info = IndicatorInfo("E4.01.11" if parts else "E4.01.05", "count" if parts else "share",
                         "x", "x", "чел." if parts else "%")
    return NationalRow(info, Figure(value, None, value), target, met, 1, "", parts)


def _part(key: str, value: float | None, target: float) -> TargetPart:
    met = value is not None and value >= target
    return TargetPart(key, key, value, target, met)  # type: ignore[arg-type]


@pytest.mark.parametrize(("row", "note"), [
    (_row(met=None, target=None), ""),
    (_row(met=True, value=100.0), "достигнута"),
    (_row(met=False, value=99.171), "не достигнута: 99,17\u00a0% (нужно не менее 100\u00a0%)"),
    (_row(met=False, value=None), "не достигнута: нет данных"),
    (_row(met=False, value=99.9999), "не достигнута: 99,9999\u00a0% (нужно не менее 100\u00a0%)"),
    (_row((_part("students", 612_000, 500_000), _part("subjects", 68, 75),
           _part("org_share", 14.9863, 25)), met=False, value=612_000, target=500_000),
     "не достигнута: субъектов-участников 68 (нужно не менее 75); доля организаций с "
     "оборудованием в субъектах-участниках 14,99\u00a0% (нужно не менее 25\u00a0%)"),
    (_row((_part("students", 412_345, 500_000), _part("subjects", 80, 75),
           _part("org_share", None, 25)), met=False, value=412_345, target=500_000),
     "не достигнута: обучающихся на оборудовании 412\u00a0345 (нужно не менее 500\u00a0000); "
     "доля организаций с оборудованием в субъектах-участниках: нет данных"),
    (_row((_part("students", 612_000, 500_000), _part("subjects", 80, 75),
           _part("org_share", 30, 25)), met=True, value=612_000, target=500_000),
     "достигнута: выполнены все условия (3 из 3)"),
])
def test_met_note_names_the_conditions_that_decide(row, note):
    assert met_note(row) == note


def test_times_are_moscow_time_and_say_so(report, xlsx):
    wb = openpyxl.load_workbook(xlsx)
    stamp = f"{_moscow(report.stamp):%d.%m.%Y %H:%M} (МСК)"
    summary = [c for row in wb["Сводка"].iter_rows(max_row=6, values_only=True) for c in row
               if isinstance(c, str)]
    assert any(text.startswith(f"Данные на {stamp}") for text in summary)
    absent = wb["Не сданы и отклонены"]
    assert absent.cell(3, 6).value == "Получен (МСК)"
    received = {r[0]: r[5] for r in absent.iter_rows(min_row=4, values_only=True)}
    for item in report.rejected:
        assert received[item.unit] == _moscow(item.submission.received_at)
    repro = wb["Воспроизводимость"]
    header_row = next(c.row for c in repro["A"] if c.value == "Единица")
    assert repro.cell(header_row, 5).value == "Получена (МСК)"
    for row in repro.iter_rows(min_row=header_row + 1, values_only=True):
        ref = next(r for r in report.reproducibility.inputs if r.unit == row[0])
        assert row[4] == _moscow(ref.received_at)
    texts = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
             if isinstance(c, str)]
    assert not [text for text in texts if "UTC" in text]


def _page_footer(pdf: Path, page: int) -> str:
    """The footer line of one A4 landscape page: «<sheet>   Стр. N из M»."""
    out = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), "-x", "0",
                          "-y", "560", "-W", "842", "-H", "35", str(pdf), "-"],
                         check=True, capture_output=True, text=True, timeout=60)
    return " ".join(out.stdout.split())


@pytest.mark.libreoffice
def test_libreoffice_prints_every_chart_on_one_page_of_its_own(report, xlsx, tmp_path):
    """LibreOffice prints the workbook to A4 landscape pages: each table sheet on one or more
    pages, each chart sheet on exactly one; the footers name the sheet and number the pages,
    so the page count is the table pages plus one page per chart."""
    soffice = find_soffice()
    require_tool(soffice is not None and shutil.which("pdftotext") is not None
                 and shutil.which("pdfinfo") is not None,
                 "LibreOffice (soffice) and poppler-utils (pdftotext, pdfinfo)")
    profile = (tmp_path / "profile").as_uri()  # never the user's profile: it may be in use
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={profile}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / f"{xlsx.stem}.pdf"
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", str(pdf)], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert len(sizes) == pages
    assert all(abs(float(w) - 841.9) < 1 and abs(float(h) - 595.3) < 1 for w, h in sizes)

    per_sheet: dict[str, list[int]] = {}
    for page in range(1, pages + 1):
        footer = _page_footer(pdf, page)
        found = re.fullmatch(r"(.+) Стр\. (\d+) из (\d+)", footer)
        assert found, (page, footer)
        assert (int(found.group(2)), int(found.group(3))) == (page, pages)
        per_sheet.setdefault(found.group(1), []).append(page)
    names = sheet_names(report)
    assert list(per_sheet) == names  # every sheet printed, in order, none in between
    chart_pages = [per_sheet[name] for name in CHARTS]
    assert all(len(numbers) == 1 for numbers in chart_pages)
    table_pages = sum(len(numbers) for name, numbers in per_sheet.items() if name not in CHARTS)
    assert pages == table_pages + len(CHARTS)
    # the regions' bands: every indicator's columns on some page of «Регионы»
    text = subprocess.run(["pdftotext", "-layout", "-f", str(per_sheet["Регионы"][0]), "-l",
                           str(per_sheet["Регионы"][-1]), str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    assert all(info.code in text for info in report.indicators)

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
