"""The national workbook (XlsxWriter): summary, regions with district subtotals, missing and
rejected regions, warnings, one native chart per indicator, reproducibility.

Deterministic: the document date is the report's own stamp (the latest receipt among its
inputs), XlsxWriter gives every zip entry a fixed time, and nothing else varies, so the same
report gives the same bytes. Texts that came from regions (file names) are written as strings,
never as formulas or links.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cos_xl.consolidate.model import (
    AbsentRegion, Figure, IndicatorInfo, NationalReport, NationalRow, SubmissionRef, UnitRow,
)
from cos_xl.files import write_atomically
from cos_xl.plural import plural

SHEET_SUMMARY = "Сводка"
SHEET_REGIONS = "Регионы"
SHEET_ABSENT = "Не сданы и отклонены"
SHEET_WARNINGS = "Предупреждения"
SHEET_REPRO = "Воспроизводимость"
CHART_SHEET_PREFIX = "Диаграмма "
STATUS_RU = {"missing": "не получен", "rejected": "отклонён"}
#: Widest chart, in pixels: at municipal scale the bars get thin instead of the chart huge.
MAX_CHART_WIDTH = 1800


#: What each sheet holds (rendered into docs/national.md); chart sheets are one per indicator.
SHEET_CONTENTS = {
    SHEET_SUMMARY: "per indicator: national value, numerator, denominator, target, met, units "
                   "with data, where the target comes from; E4.01.11's three conditions",
    SHEET_REGIONS: "Российская Федерация, then each federal district (subtotal row) followed "
                   "by its regions (units): state, version, and per indicator value, numerator, "
                   "denominator, rank; missing and rejected regions listed without figures",
    SHEET_ABSENT: "regions with nothing received and units whose latest file failed: version, "
                  "time received, file name, error codes",
    SHEET_WARNINGS: "warnings of the accepted submissions per finding code (unexplained, "
                    "explained, units) and per unit",
    f"{CHART_SHEET_PREFIX}<code>": "one per indicator: units sorted by value (rank, code, name, "
                                   "value) and a native column chart; for a share with a target "
                                   "a red target line, and a dashed national-value line",
    SHEET_REPRO: "tool version, form id/version, SHA-256 of the form file and of its rules, rule "
                 "count, fingerprint of the inputs, targets, and every input file (unit, used, "
                 "version, received, verdict, size, SHA-256, form, file name)",
}


def chart_sheet_name(code: str) -> str:
    return f"{CHART_SHEET_PREFIX}{code}"


def sheet_names(report: NationalReport) -> list[str]:
    """The sheets of the national workbook, in order."""
    return ([SHEET_SUMMARY, SHEET_REGIONS, SHEET_ABSENT, SHEET_WARNINGS]
            + [chart_sheet_name(info.code) for info in report.indicators] + [SHEET_REPRO])


def write_xlsx(report: NationalReport, path: Path) -> None:
    """Write the national workbook to ``path`` atomically (temporary file, then rename)."""
    write_atomically(Path(path), xlsx_bytes(report))


def xlsx_bytes(report: NationalReport) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                      "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({
        "title": f"Национальная сводка ЦОС за {report.period_title}",
        "subject": "Федеральный проект «Цифровая образовательная среда»",
        "author": "cos-xl", "company": "",
        "comments": f"cos-xl {report.reproducibility.tool_version}",
        "created": _naive_utc(report.stamp),
    })
    st = _Styles(wb)
    _summary(wb.add_worksheet(SHEET_SUMMARY), report, st)
    _regions(wb.add_worksheet(SHEET_REGIONS), report, st)
    _absent(wb.add_worksheet(SHEET_ABSENT), report, st)
    _warnings(wb.add_worksheet(SHEET_WARNINGS), report, st)
    for row in report.national:
        _chart_sheet(wb, wb.add_worksheet(chart_sheet_name(row.indicator.code)), report, row, st)
    _reproducibility(wb.add_worksheet(SHEET_REPRO), report, st)
    wb.close()
    return buffer.getvalue()


class _Styles:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.bold = wb.add_format({**base, "bold": True})
        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.note = wb.add_format({**base, "italic": True, "font_color": "#595959"})
        self.header = wb.add_format({**base, "bold": True, "text_wrap": True, "border": 1,
                                     "bg_color": "#DDEBF7", "valign": "vcenter"})
        self.percent = wb.add_format({**base, "num_format": "0.00"})
        self.count = wb.add_format({**base, "num_format": "#,##0"})
        self.percent_bold = wb.add_format({**base, "num_format": "0.00", "bold": True})
        self.count_bold = wb.add_format({**base, "num_format": "#,##0", "bold": True})
        self.date = wb.add_format({**base, "num_format": "yyyy-mm-dd hh:mm:ss"})
        self.yes = wb.add_format({**base, "bold": True, "font_color": "#006100",
                                  "bg_color": "#C6EFCE"})
        self.no = wb.add_format({**base, "bold": True, "font_color": "#9C0006",
                                 "bg_color": "#FFC7CE"})

    def number(self, kind: str, bold: bool = False):
        if kind == "share":
            return self.percent_bold if bold else self.percent
        return self.count_bold if bold else self.count


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _num(ws: Worksheet, row: int, col: int, value: float | None, fmt) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _met(ws: Worksheet, row: int, col: int, met: bool | None, st: _Styles) -> None:
    if met is None:
        ws.write_blank(row, col, None, st.text)
    else:
        ws.write_string(row, col, "да" if met else "нет", st.yes if met else st.no)


def _header(ws: Worksheet, row: int, titles: Sequence[str], st: _Styles, col: int = 0) -> None:
    for offset, title in enumerate(titles):
        ws.write_string(row, col + offset, title, st.header)


def _summary(ws: Worksheet, report: NationalReport, st: _Styles) -> None:
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 58)
    ws.set_column(2, 2, 8)
    ws.set_column(3, 8, 14)
    ws.set_column(9, 9, 80)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.write_string(0, 0, "Национальная сводка по показателям федерального проекта "
                          "«Цифровая образовательная среда»", st.title)
    ws.write_string(1, 0, f"Отчётный период: {report.period_title} ({report.period}); значения "
                          "на последний день периода, нарастающим итогом.", st.text)
    of_regions = plural(report.regions_expected, "субъекта", "субъектов", "субъектов")
    ws.write_string(2, 0, f"Приняты отчёты {report.regions_reported} из "
                          f"{report.regions_expected} {of_regions}; не получены: "
                          f"{len(report.missing)}; отклонены без принятой версии: "
                          f"{len(report.rejected)}.", st.text)
    ws.write_string(3, 0, "Доля = сумма числителей / сумма знаменателей × 100 по принятым "
                          "отчётам (взвешенная доля, не среднее процентов); количество "
                          "суммируется; доля с нулевым знаменателем не имеет значения.", st.note)
    _header(ws, 5, ["Код", "Показатель", "Ед. изм.", "Значение", "Числитель", "Знаменатель",
                    "Цель", "Выполнено", "Единиц с данными", "Примечание"], st)
    ws.set_row(5, 27)
    row = 6
    for line in report.national:
        info, fig = line.indicator, line.figure
        ws.write_string(row, 0, info.code, st.bold)
        ws.write_string(row, 1, info.short, st.text)
        ws.write_string(row, 2, info.unit, st.text)
        _num(ws, row, 3, fig.value, st.number(info.kind, bold=True))
        _num(ws, row, 4, fig.numerator, st.count)
        _num(ws, row, 5, fig.denominator, st.count)
        _num(ws, row, 6, line.target, st.number(info.kind))
        _met(ws, row, 7, line.met, st)
        ws.write_number(row, 8, line.units, st.count)
        ws.write_string(row, 9, line.target_note, st.wrap)
        if len(line.target_note) > 90:  # XlsxWriter does not fit row heights to wrapped text
            ws.set_row(row, 13.5 * (1 + len(line.target_note) // 90))
        row += 1
    for line in report.national:
        if not line.parts:
            continue
        row += 1
        ws.write_string(row, 0, f"Проверка национального результата {line.indicator.code}: "
                                "выполнен, когда выполнены все три условия", st.bold)
        row += 1
        ws.merge_range(row, 0, row, 2, "Условие", st.header)
        _header(ws, row, ["Значение", "Числитель", "Знаменатель", "Требование", "Выполнено"],
                st, col=3)
        for part in line.parts:
            row += 1
            ws.merge_range(row, 0, row, 2, part.title, st.wrap)
            ws.set_row(row, 27)
            kind = "share" if part.key == "org_share" else "count"
            _num(ws, row, 3, part.value, st.number(kind, bold=True))
            _num(ws, row, 4, part.numerator, st.count)
            _num(ws, row, 5, part.denominator, st.count)
            _num(ws, row, 6, part.target, st.number(kind))
            _met(ws, row, 7, part.met, st)
    ws.freeze_panes(6, 0)


_REGION_FIXED = ["Код", "Субъект (единица)", "Федеральный округ", "Состояние", "Версия"]
_REGION_SUB = ["Значение", "Числитель", "Знаменатель", "Место"]


def _regions(ws: Worksheet, report: NationalReport, st: _Styles) -> None:
    fixed = len(_REGION_FIXED)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 2, 18)
    ws.set_column(3, 3, 16)
    ws.set_column(4, 4, 7)
    ws.set_column(fixed, fixed + 4 * len(report.indicators) - 1, 12)
    for col, title in enumerate(_REGION_FIXED):
        ws.merge_range(0, col, 1, col, title, st.header)
    for i, info in enumerate(report.indicators):
        first = fixed + 4 * i
        ws.merge_range(0, first, 0, first + 3, f"{info.code} {info.short}, {info.unit}",
                       st.header)
        _header(ws, 1, _REGION_SUB, st, col=first)
    ws.set_row(0, 42)
    ws.freeze_panes(2, 2)

    row = 2

    def figures(values: dict[str, Figure] | None, bold: bool, ranks: bool) -> None:
        for i, info in enumerate(report.indicators):
            first = fixed + 4 * i
            fig = values[info.code] if values else None
            if fig is None:
                continue
            _num(ws, row, first, fig.value, st.number(info.kind, bold))
            _num(ws, row, first + 1, fig.numerator, st.count_bold if bold else st.count)
            _num(ws, row, first + 2, fig.denominator, st.count_bold if bold else st.count)
            if ranks:
                _num(ws, row, first + 3, getattr(fig, "rank", None), st.count)

    ws.write_string(row, 1, "Российская Федерация", st.bold)
    ws.write_string(row, 3, f"принято {report.regions_reported} из {report.regions_expected}",
                    st.bold)
    figures({line.indicator.code: line.figure for line in report.national}, True, False)
    row += 1
    absent = [*report.missing, *report.rejected]
    for district in report.districts:
        ws.write_string(row, 1, f"{district.name} федеральный округ", st.bold)
        ws.write_string(row, 3, f"принято {district.reported} из {district.regions}", st.bold)
        figures(dict(district.figures), True, False)
        row += 1
        members: list[UnitRow | AbsentRegion] = [
            *(u for u in report.units if u.federal_district == district.name),
            *(a for a in absent if a.federal_district == district.name)]
        for item in sorted(members, key=lambda m: (m.unit, isinstance(m, AbsentRegion))):
            ws.write_string(row, 0, item.unit, st.text)
            ws.write_string(row, 1, item.label, st.text)
            ws.write_string(row, 2, item.federal_district, st.text)
            if isinstance(item, UnitRow):
                ws.write_string(row, 3, "принят", st.text)
                ws.write_number(row, 4, item.submission.version, st.text)
                figures(dict(item.figures), False, True)
            else:
                ws.write_string(row, 3, STATUS_RU[item.status], st.text)
                if item.submission is not None:
                    ws.write_number(row, 4, item.submission.version, st.text)
            row += 1
    ws.write_string(row + 1, 1, "Место: 1 — наибольшее значение среди единиц с принятым "
                                "отчётом; равные значения делят лучшее место (1, 2, 2, 4); "
                                "без значения места нет.", st.note)


def _absent(ws: Worksheet, report: NationalReport, st: _Styles) -> None:
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 3, 18)
    ws.set_column(4, 4, 7)
    ws.set_column(5, 5, 19)
    ws.set_column(6, 6, 36)
    ws.set_column(7, 7, 8)
    ws.set_column(8, 8, 50)
    ws.write_string(0, 0, f"Субъекты без принятого отчёта за {report.period_title}", st.title)
    _header(ws, 2, ["Код", "Субъект (единица)", "Федеральный округ", "Состояние", "Версия",
                    "Получен (UTC)", "Файл", "Ошибок", "Коды ошибок"], st)
    rows = sorted([*report.missing, *report.rejected], key=lambda a: a.unit)
    for row, item in enumerate(rows, start=3):
        ws.write_string(row, 0, item.unit, st.text)
        ws.write_string(row, 1, item.label, st.text)
        ws.write_string(row, 2, item.federal_district, st.text)
        ws.write_string(row, 3, STATUS_RU[item.status], st.text)
        ref = item.submission
        if ref is not None:
            ws.write_number(row, 4, ref.version, st.text)
            ws.write_datetime(row, 5, _naive_utc(ref.received_at), st.date)
            ws.write_string(row, 6, ref.filename, st.text)
            ws.write_number(row, 7, item.errors, st.text)
            ws.write_string(row, 8, ", ".join(item.error_codes), st.wrap)
    if not rows:
        ws.write_string(3, 0, "Все субъекты периода сдали принятые отчёты.", st.note)
    ws.freeze_panes(3, 0)


def _warnings(ws: Worksheet, report: NationalReport, st: _Styles) -> None:
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 56)
    ws.set_column(2, 4, 14)
    ws.write_string(0, 0, "Предупреждения в принятых отчётах", st.title)
    ws.write_string(1, 0, "«Пояснено» — предупреждение, к которому регион дал пояснение "
                          "в книге (в проверке — уровень «Сведения»).", st.note)
    _header(ws, 3, ["Код замечания", "Описание", "Предупреждений", "Пояснено",
                    "Единиц с замечанием"], st)
    row = 4
    for item in report.warnings:
        ws.write_string(row, 0, item.code, st.text)
        ws.write_string(row, 1, item.title, st.wrap)
        ws.write_number(row, 2, item.warnings, st.count)
        ws.write_number(row, 3, item.explained, st.count)
        ws.write_number(row, 4, item.units, st.count)
        row += 1
    ws.write_string(row, 1, "Всего", st.bold)
    ws.write_number(row, 2, sum(w.warnings for w in report.warnings), st.count_bold)
    ws.write_number(row, 3, sum(w.explained for w in report.warnings), st.count_bold)
    row += 2
    ws.write_string(row, 0, "По субъектам (единицам)", st.bold)
    row += 1
    _header(ws, row, ["Код", "Субъект (единица)", "Предупреждений", "Пояснено"], st)
    for unit in report.units:
        if unit.warnings or unit.explained:
            row += 1
            ws.write_string(row, 0, unit.unit, st.text)
            ws.write_string(row, 1, unit.label, st.text)
            ws.write_number(row, 2, unit.warnings, st.count)
            ws.write_number(row, 3, unit.explained, st.count)


def _chart_sheet(wb: xlsxwriter.Workbook, ws: Worksheet, report: NationalReport,
                 line: NationalRow, st: _Styles) -> None:
    info = line.indicator
    code = info.code
    ranked = sorted((u for u in report.units if u.figures[code].value is not None),
                    key=lambda u: (u.figures[code].rank, u.unit))
    empty = [u for u in report.units if u.figures[code].value is None]
    # A per-region target line: a share's target applies to every region (E4.01.05: 100 %);
    # the count targets (E4.01.07, E4.01.11) are national sums, meaningless against one bar.
    target = line.target if info.kind == "share" else None
    national = line.figure.value if info.kind == "share" else None
    ws.set_column(0, 1, 8)
    ws.set_column(2, 2, 36)
    ws.set_column(3, 5, 12)
    ws.write_string(0, 0, f"{code} {info.short}, {info.unit}", st.title)
    ws.write_string(1, 0, _chart_note(info, line, target), st.note)
    titles = ["Место", "Код", "Субъект (единица)", "Значение"]
    if target is not None:
        titles.append("Цель")
    if national is not None:
        titles.append("По стране")
    _header(ws, 3, titles, st)
    first = 4
    for row, unit in enumerate([*ranked, *empty], start=first):
        fig = unit.figures[code]
        _num(ws, row, 0, fig.rank, st.count)
        ws.write_string(row, 1, unit.unit, st.text)
        ws.write_string(row, 2, unit.label, st.text)
        _num(ws, row, 3, fig.value, st.number(info.kind))
        if row < first + len(ranked):
            col = 4
            if target is not None:
                ws.write_number(row, col, target, st.number(info.kind))
                col += 1
            if national is not None:
                ws.write_number(row, col, national, st.number(info.kind))
    if not ranked:
        ws.write_string(first, 2, "Нет значений: диаграмма пуста.", st.note)
    last = first + max(len(ranked), 1) - 1
    sheet = ws.get_name()

    def ref(col: int) -> list:
        return [sheet, first, col, last, col]

    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Значение", "categories": ref(2), "values": ref(3),
                      "fill": {"color": "#4472C4"}, "gap": 40})
    extra = wb.add_chart({"type": "line"})
    col = 4
    lines = 0
    if target is not None:
        extra.add_series({"name": "Цель", "categories": ref(2), "values": ref(col),
                          "line": {"color": "#C00000", "width": 2}, "marker": {"type": "none"}})
        col += 1
        lines += 1
    if national is not None:
        extra.add_series({"name": "По стране", "categories": ref(2), "values": ref(col),
                          "line": {"color": "#7F7F7F", "width": 1.5, "dash_type": "dash"},
                          "marker": {"type": "none"}})
        lines += 1
    if lines:
        chart.combine(extra)
    chart.set_title({"name": f"{code} {info.short}", "name_font": {"size": 12}})
    chart.set_y_axis({"name": info.unit, "num_format": "0" if info.kind == "share" else "#,##0",
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                      **({"max": 100, "min": 0} if info.kind == "share" else {"min": 0})})
    x_axis: dict = {"num_font": {"rotation": -90, "size": 7}}
    if len(ranked) <= 120:
        x_axis["interval_unit"] = 1
    chart.set_x_axis(x_axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": min(MAX_CHART_WIDTH, max(900, 14 * len(ranked))), "height": 520})
    ws.insert_chart(3, 7, chart)
    ws.freeze_panes(4, 0)


def _chart_note(info: IndicatorInfo, line: NationalRow, target: float | None) -> str:
    order = "Субъекты (единицы) по убыванию значения"
    if target is not None:
        return f"{order}; красная линия — цель {target:g}%, пунктир — значение по стране."
    if info.kind == "share":
        return f"{order}; пунктир — значение по стране."
    if line.target is not None:
        return (f"{order}. Цель национальная (сумма по субъектам): "
                f"{line.target_note}; см. лист «{SHEET_SUMMARY}».")
    return f"{order}."


def _reproducibility(ws: Worksheet, report: NationalReport, st: _Styles) -> None:
    rep = report.reproducibility
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 3, 10)
    ws.set_column(4, 4, 19)
    ws.set_column(5, 5, 20)
    ws.set_column(6, 6, 12)
    ws.set_column(7, 7, 66)
    ws.set_column(8, 9, 16)
    ws.set_column(10, 10, 36)
    ws.write_string(0, 0, "Воспроизводимость сводки", st.title)
    facts: list[tuple[str, str | float]] = [
        ("Отчётный период", report.period),
        ("Версия cos-xl", rep.tool_version),
        ("Форма", rep.form_id),
        ("Версия формы", rep.form_version),
        ("Файл спецификации формы", rep.form_file),
        ("SHA-256 спецификации формы", rep.form_sha256),
        ("Правил в спецификации", rep.rule_templates),
        ("Проверок (после развёртывания правил)", rep.rule_count),
        ("SHA-256 правил", rep.rules_sha256),
        ("Отпечаток входных данных (SHA-256)", rep.inputs_sha256),
        ("Дата сводки (последнее поступление, UTC)",
         _naive_utc(report.stamp).isoformat(sep=" ")),
        ("Цели периода по показателям",
         "; ".join(f"{code} ≥ {value:g}" for code, value in rep.targets.items()) or "нет"),
        ("Национальные цели (настройка кампании)",
         "; ".join(f"{key} = {value:g}" for key, value in rep.national_targets.items())),
    ]
    for row, (key, value) in enumerate(facts, start=2):
        ws.write_string(row, 0, key, st.bold)
        if isinstance(value, str):
            ws.write_string(row, 1, value, st.text)
        else:
            ws.write_number(row, 1, value, st.text)
    row = len(facts) + 3
    ws.write_string(row, 0, "Входные файлы (последняя принятая версия каждой единицы; для "
                            "отклонённых — последняя полученная)", st.bold)
    row += 1
    _header(ws, row, ["Единица", "Субъект", "Учтена", "Версия", "Получена (UTC)",
                      "Итог проверки", "Размер, байт", "SHA-256", "Форма", "Версия формы",
                      "Имя файла"], st)
    names = {u.unit: u.label for u in report.units}
    names.update({a.unit: a.label for a in report.rejected})
    for ref in rep.inputs:
        row += 1
        _input_row(ws, row, ref, names.get(ref.unit, ""), st)
    ws.freeze_panes(len(facts) + 5, 0)


def _input_row(ws: Worksheet, row: int, ref: SubmissionRef, name: str, st: _Styles) -> None:
    ws.write_string(row, 0, ref.unit, st.text)
    ws.write_string(row, 1, name, st.text)
    ws.write_string(row, 2, "да" if ref.used else "нет", st.text)
    ws.write_number(row, 3, ref.version, st.text)
    ws.write_datetime(row, 4, _naive_utc(ref.received_at), st.date)
    ws.write_string(row, 5, ref.verdict, st.text)
    ws.write_number(row, 6, ref.size, st.count)
    ws.write_string(row, 7, ref.sha256, st.text)
    ws.write_string(row, 8, ref.form_id, st.text)
    ws.write_string(row, 9, ref.form_version, st.text)
    ws.write_string(row, 10, ref.filename, st.text)
