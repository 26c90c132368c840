"""The Excel validation report (validation-report.xlsx), written and read back: whole messages
visible, headers wrapped, A4 landscape one page wide, numbers as numbers, and the form version
filled in, by ``cos-xl validate`` and by the demo alike."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cos_xl.demo.round import run_demo
from cos_xl.findings import Finding
from cos_xl.spec import load_form
from cos_xl.validate.report import FILE_COLUMNS, FINDING_COLUMNS, write_xlsx_report
from cos_xl.validate.run import FileResult

LONG = ("стр. 3.6 «СПО: организации, использующие ИС»: 15 — больше, чем стр. 3.5 «организации "
        "СПО»: 0. Строка «из них» не может быть больше своей итоговой строки; исправьте одно из "
        "двух значений или поясните, почему они верны. ") * 3


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    results = [
        FileResult(folder / "cos_2020Q3_77.xlsm", "FAIL", [
            Finding("part-exceeds-total", "error", LONG, sheet="Данные", cell="D30", value=15),
            Finding("target-not-met", "warning", "E4.01.05: 94,5% при цели 100%.",
                    sheet="Показатели", cell="E11", value=94.4933920704845),
            Finding("value-as-text", "error", "стр. 1.1: текст.", sheet="Данные", cell="D6",
                    value="1 234"),
        ], region_code="77", period="2020Q3", form_version="2020.1"),
        FileResult(folder / "cos_2020Q3_50.xlsm", "PASS", [], region_code="50",
                   period="2020Q3", form_version="2020.1"),
    ]
    path = folder / "validation-report.xlsx"
    write_xlsx_report(results, path)
    return openpyxl.load_workbook(path)


def test_every_sheet_prints_on_a4_landscape_one_page_wide(report):
    for ws in report.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert int(ws.page_setup.paperSize) == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # 1 is the default XlsxWriter leaves out; 0 pages tall: as many as needed
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title  # the header on every page


@pytest.mark.parametrize("sheet, columns", [("Файлы", FILE_COLUMNS),
                                            ("Замечания", FINDING_COLUMNS)])
def test_headers_wrap_and_are_not_cut(report, sheet, columns):
    ws = report[sheet]
    lines = 1
    for col, (title, width) in enumerate(columns, start=1):
        cell = ws.cell(1, col)
        assert cell.value == title and cell.alignment.wrap_text
        letter = cell.column_letter
        assert ws.column_dimensions[letter].width >= min(len(title), 8), title
        # a header wider than its column (less the filter button) needs a taller row
        lines = max(lines, -(-len(title) // int(width - 2)))
    height = ws.row_dimensions[1].height
    assert (height or 13) >= 13 * lines


def test_a_long_message_is_wholly_visible(report):
    ws = report["Замечания"]
    rows = {ws.cell(r, 5).value: r for r in range(2, ws.max_row + 1)}
    long_row, short_row = rows["part-exceeds-total"], rows["value-as-text"]
    assert ws.cell(long_row, 9).value == LONG  # never cut
    assert ws.cell(long_row, 9).alignment.wrap_text
    width = ws.column_dimensions["I"].width
    lines_at_least = len(LONG) // int(width * 1.3)  # generous characters per line
    assert ws.row_dimensions[long_row].height >= 13 * lines_at_least > 13 * 4
    assert ws.row_dimensions[short_row].height is None  # one line: the default height


def test_values_are_numbers_and_the_form_version_is_filled(report):
    ws = report["Замечания"]
    values = {ws.cell(r, 5).value: ws.cell(r, 10) for r in range(2, ws.max_row + 1)}
    assert values["part-exceeds-total"].value == 15
    assert values["target-not-met"].value == pytest.approx(94.4933920704845)
    assert values["target-not-met"].number_format == "0.0#####"
    assert values["value-as-text"].value == "1 234"
    files = report["Файлы"]
    assert [files.cell(r, 4).value for r in (2, 3)] == ["2020.1", "2020.1"]


def test_the_demo_report_has_the_form_version_of_every_file(tmp_path):
    result = run_demo(tmp_path / "demo", regions=["77", "50", "78"])
    ws = openpyxl.load_workbook(result.paths["Отчёт о проверке"])["Файлы"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(result.outcomes) >= 3
    version = load_form().version
    for name, region, _period, form_version, *_ in rows:
        assert region and form_version == version, name
    assert {Path(o.path).name for o in result.outcomes} == {row[0] for row in rows}
