"""The national workbook (XlsxWriter): summary, regions with district subtotals, missing and
rejected regions, warnings, per indicator a chart sheet and its ranking, reproducibility.

Deterministic: the document date is the report's own stamp (the latest receipt among its
inputs), XlsxWriter gives every zip entry a fixed time, and nothing else varies, so the same
report gives the same bytes. Texts that came from regions (file names) are written as strings,
never as formulas or links.

Printing: every sheet is A4 landscape with its header rows on every page and «Стр. N из M» in
the footer; table sheets are scaled to one page wide, except «Регионы» (8 indicators × 4
columns would shrink to unreadable), which is printed at one scale in column bands of whole
indicators with the code and name repeated on the left; each chart is a chart sheet, one page.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cos_xl.consolidate.model import (
    AbsentRegion, Figure, NationalReport, NationalRow, SubmissionRef, TargetPart, UnitRow,
)
from cos_xl.consolidate.xlsx_charts import (
    CHART_SHEET_PREFIX, RANKING_SHEET_PREFIX, chart_sheet, chart_sheet_name, ranking_sheet,
    ranking_sheet_name,
)
from cos_xl.consolidate.xlsx_format import (
    LINE_PT, PRINTABLE_WIDTH_PT, Styles, column_points, header, int_ru, met_cell, moscow,
    moscow_text, num, print_setup, share_ru, text_lines,
)
from cos_xl.files import write_atomically
from cos_xl.plural import plural

SHEET_SUMMARY = "Сводка"
SHEET_REGIONS = "Регионы"
SHEET_ABSENT = "Не сданы и отклонены"
SHEET_WARNINGS = "Предупреждения"
SHEET_UNIT_WARNINGS = "Предупреждения по субъектам"
SHEET_REPRO = "Воспроизводимость"
STATUS_RU = {"missing": "не получен", "rejected": "отклонён"}

#: What each sheet holds (rendered into docs/national.md).
SHEET_CONTENTS = {
    SHEET_SUMMARY: "per indicator: national value, numerator, denominator, target, met and why "
                   "(for E4.01.11 the conditions not met, e.g. «субъектов-участников 68 (нужно "
                   "не менее 75)»), units with data, where the target comes from; E4.01.11's "
                   "three conditions; the moment the data stand at, Moscow time",
    SHEET_REGIONS: "Российская Федерация, then each federal district (subtotal row) followed "
                   "by its regions (units): code, state, version, and per indicator value, "
                   "numerator, denominator, place («Место», its own column); missing and "
                   "rejected regions listed without figures",
    SHEET_ABSENT: "regions with nothing received and units whose latest file failed: version, "
                  "time received (Moscow), file name, error codes",
    SHEET_WARNINGS: "warnings of the accepted submissions per finding code (unexplained, "
                    "explained, units)",
    SHEET_UNIT_WARNINGS: "per unit with warnings: unexplained and explained warnings",
    f"{CHART_SHEET_PREFIX}<code>": "one per indicator, a chart sheet (one printed page): a "
                                   "native column chart of the units sorted by value; for a "
                                   "share with a target a red target line, and a dashed "
                                   "national-value line, both named with their value in the "
                                   "legend",
    f"{RANKING_SHEET_PREFIX}<code>": "one per indicator, the chart's data: units sorted by "
                                     "value (place, code, name, value; units without a value "
                                     "last); the lines' values in hidden columns",
    SHEET_REPRO: "tool version, form id/version, SHA-256 of the form file and of its rules, rule "
                 "count, fingerprint of the inputs, targets, and every input file (unit, used, "
                 "version, received (Moscow), verdict, size, SHA-256, form, file name)",
}
#: Indicators per printed band of pages of «Регионы».
REGION_BAND = 2


def sheet_names(report: NationalReport) -> list[str]:
    """The sheets of the national workbook, in order."""
    per_indicator = [name for info in report.indicators
                     for name in (chart_sheet_name(info.code), ranking_sheet_name(info.code))]
    return ([SHEET_SUMMARY, SHEET_REGIONS, SHEET_ABSENT, SHEET_WARNINGS,
             SHEET_UNIT_WARNINGS] + per_indicator
            + [SHEET_REPRO])


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
        "created": _naive_utc(report.stamp),  # OOXML's W3CDTF date: UTC, marked «Z»
    })
    st = Styles(wb)
    _summary(wb.add_worksheet(SHEET_SUMMARY), report, st)
    _regions(wb.add_worksheet(SHEET_REGIONS), report, st)
    _absent(wb.add_worksheet(SHEET_ABSENT), report, st)
    _warnings(wb.add_worksheet(SHEET_WARNINGS), report, st)
    _unit_warnings(wb.add_worksheet(SHEET_UNIT_WARNINGS), report, st)
    for row in report.national:
        code = row.indicator.code
        charts = wb.add_chartsheet(chart_sheet_name(code))
        ranking = wb.add_worksheet(ranking_sheet_name(code))
        chart_sheet(wb, charts, ranking_sheet(ranking, report, row, st), report, row)
    _reproducibility(wb.add_worksheet(SHEET_REPRO), report, st)
    wb.close()
    return buffer.getvalue()


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def met_note(line: NationalRow) -> str:
    """Why a national target is reached or not, in Russian; for E4.01.11 the conditions that
    decide it («не достигнута: субъектов-участников 68 (нужно не менее 75)»); "" without a
    target."""
    if line.met is None or line.target is None:
        return ""
    if line.parts:
        if line.met:
            return f"достигнута: выполнены все условия ({len(line.parts)} из {len(line.parts)})"
        return "не достигнута: " + "; ".join(_shortfall(part) for part in line.parts
                                            if not part.met)
    if line.met:
        return "достигнута"
    if line.figure.value is None:
        return "не достигнута: нет данных"
    return f"не достигнута: {_short_of(line.figure.value, line.target, line.indicator.kind)}"


_PART_SUBJECT = {"students": "обучающихся на оборудовании",
                 "subjects": "субъектов-участников",
                 "org_share": "доля организаций с оборудованием в субъектах-участниках"}


def _shortfall(part: TargetPart) -> str:
    kind = "share" if part.key == "org_share" else "count"
    what = _PART_SUBJECT[part.key]
    if part.value is None:
        return f"{what}: нет данных"
    return f"{what} {_short_of(part.value, part.target, kind)}"


def _short_of(value: float, target: float, kind: str) -> str:
    """«14,99 % (нужно не менее 25 %)»: a value below its target never printed as reaching it
    (24.999 % is «24,999 %», not «25 %»)."""
    if kind == "share":
        digits = next((d for d in range(2, 7) if float(f"{value:.{d}f}") < target), 6)
        return f"{share_ru(value, digits)} (нужно не менее {share_ru(target, 6)})"
    return f"{int_ru(math.floor(value))} (нужно не менее {int_ru(math.ceil(target))})"


_SUMMARY_WIDTHS = [9, 34, 6, 11, 12, 12, 10, 9, 30, 9, 36]
_SUMMARY_HEADER = ["Код", "Показатель", "Ед. изм.", "Значение", "Числитель", "Знаменатель",
                   "Цель", "Выполнено", "Пояснение", "Единиц с данными", "Откуда цель"]
SUMMARY_HEADER_ROW = 6  # 0-based


def _summary(ws: Worksheet, report: NationalReport, st: Styles) -> None:
    for col, width in enumerate(_SUMMARY_WIDTHS):
        ws.set_column(col, col, width)
    print_setup(ws, report, (SUMMARY_HEADER_ROW, SUMMARY_HEADER_ROW))
    ws.write_string(0, 0, "Национальная сводка по показателям федерального проекта "
                          "«Цифровая образовательная среда»", st.title)
    ws.write_string(1, 0, f"Отчётный период: {report.period_title} ({report.period}); значения "
                          "на последний день периода, нарастающим итогом.", st.text)
    ws.write_string(2, 0, f"Данные на {moscow_text(report.stamp)}: время поступления "
                          "последнего файла, учтённого в сводке.", st.text)
    of_regions = plural(report.regions_expected, "субъекта", "субъектов", "субъектов")
    ws.write_string(3, 0, f"Приняты отчёты {report.regions_reported} из "
                          f"{report.regions_expected} {of_regions}; не получены: "
                          f"{len(report.missing)}; отклонены без принятой версии: "
                          f"{len(report.rejected)}.", st.text)
    ws.write_string(4, 0, "Доля = сумма числителей / сумма знаменателей × 100 по принятым "
                          "отчётам (взвешенная доля, не среднее процентов); количество "
                          "суммируется; доля с нулевым знаменателем не имеет значения.", st.note)
    header(ws, SUMMARY_HEADER_ROW, _SUMMARY_HEADER, st)
    ws.set_row(SUMMARY_HEADER_ROW, 27)
    row = SUMMARY_HEADER_ROW + 1
    for line in report.national:
        info, fig = line.indicator, line.figure
        why = met_note(line)
        ws.write_string(row, 0, info.code, st.bold)
        ws.write_string(row, 1, info.short, st.wrap)
        ws.write_string(row, 2, info.unit, st.text)
        num(ws, row, 3, fig.value, st.number(info.kind, bold=True))
        num(ws, row, 4, fig.numerator, st.count)
        num(ws, row, 5, fig.denominator, st.count)
        num(ws, row, 6, line.target, st.number(info.kind))
        met_cell(ws, row, 7, line.met, st)
        ws.write_string(row, 8, why, st.no_note if line.met is False else st.wrap)
        ws.write_number(row, 9, line.units, st.count)
        ws.write_string(row, 10, line.target_note, st.wrap)
        lines = max(text_lines(info.short, _SUMMARY_WIDTHS[1]), text_lines(why, _SUMMARY_WIDTHS[8]),
                    text_lines(line.target_note, _SUMMARY_WIDTHS[10]))
        if lines > 1:
            ws.set_row(row, LINE_PT * lines)
        row += 1
    for line in report.national:
        if not line.parts:
            continue
        row += 1
        ws.write_string(row, 0, f"Проверка национального результата {line.indicator.code}: "
                                "выполнен, когда выполнены все три условия", st.bold)
        row += 1
        ws.merge_range(row, 0, row, 2, "Условие", st.header)
        header(ws, row, ["Значение", "Числитель", "Знаменатель", "Требование", "Выполнено"],
               st, col=3)
        for part in line.parts:
            row += 1
            ws.merge_range(row, 0, row, 2, part.title, st.wrap)
            ws.set_row(row, 27)
            kind = "share" if part.key == "org_share" else "count"
            num(ws, row, 3, part.value, st.number(kind, bold=True))
            num(ws, row, 4, part.numerator, st.count)
            num(ws, row, 5, part.denominator, st.count)
            num(ws, row, 6, part.target, st.number(kind))
            met_cell(ws, row, 7, part.met, st)
    ws.freeze_panes(SUMMARY_HEADER_ROW + 1, 0)


_REGION_FIXED = ["Код", "Субъект (единица)", "Федеральный округ", "Состояние", "Версия"]
_REGION_FIXED_WIDTHS = [8, 34, 15, 16, 7]
_REGION_SUB = ["Значение", "Числитель", "Знаменатель", "Место"]
_REGION_SUB_WIDTHS = [9, 11, 11, 7]
#: Columns repeated at the left of every printed band: «Код» and «Субъект (единица)».
_REGION_REPEAT = 2


def region_print_bands(indicators: int) -> tuple[int, list[int]]:
    """The print scale (%) of «Регионы» and the columns where a new band of pages starts.

    Each band holds :data:`REGION_BAND` whole indicators, so none is split across pages; the
    first band also holds the fixed columns and sets the scale (the widest band), the later ones
    start with «Код» and «Субъект», repeated. Bands of a fixed size rather than «as many as
    fit»: where columns come out wider than Excel draws them (LibreOffice without Calibri's
    metrics), the overflow adds a page to a band instead of moving every later break."""
    fixed = sum(column_points(w) for w in _REGION_FIXED_WIDTHS)
    block = sum(column_points(w) for w in _REGION_SUB_WIDTHS)
    widest = fixed + min(indicators, REGION_BAND) * block
    scale = min(100, int(97 * PRINTABLE_WIDTH_PT / widest))  # 3 % to spare
    first = len(_REGION_FIXED)
    return scale, [first + len(_REGION_SUB) * i for i in range(REGION_BAND, indicators,
                                                                REGION_BAND)]


def _regions(ws: Worksheet, report: NationalReport, st: Styles) -> None:
    fixed, sub = len(_REGION_FIXED), len(_REGION_SUB)
    for col, width in enumerate(_REGION_FIXED_WIDTHS):
        ws.set_column(col, col, width)
    for i in range(len(report.indicators)):
        for offset, width in enumerate(_REGION_SUB_WIDTHS):
            ws.set_column(fixed + sub * i + offset, fixed + sub * i + offset, width)
    print_setup(ws, report, (0, 1), fit_width=False)
    scale, breaks = region_print_bands(len(report.indicators))
    ws.set_print_scale(scale)
    ws.set_v_pagebreaks(breaks)
    ws.repeat_columns(0, _REGION_REPEAT - 1)
    for col, title in enumerate(_REGION_FIXED):
        ws.merge_range(0, col, 1, col, title, st.header)
    for i, info in enumerate(report.indicators):
        first = fixed + sub * i
        ws.merge_range(0, first, 0, first + sub - 1, f"{info.code} {info.short}, {info.unit}",
                       st.header)
        header(ws, 1, _REGION_SUB, st, col=first)
    ws.set_row(0, 42)
    ws.set_row(1, 27)
    ws.freeze_panes(2, 2)

    row = 2

    def figures(values: dict[str, Figure] | None, bold: bool, ranks: bool) -> None:
        for i, info in enumerate(report.indicators):
            first = fixed + sub * i
            fig = values[info.code] if values else None
            if fig is None:
                continue
            num(ws, row, first, fig.value, st.number(info.kind, bold))
            num(ws, row, first + 1, fig.numerator, st.count_bold if bold else st.count)
            num(ws, row, first + 2, fig.denominator, st.count_bold if bold else st.count)
            if ranks:
                num(ws, row, first + 3, getattr(fig, "rank", None), st.count)

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


_ABSENT_WIDTHS = [8, 34, 15, 11, 7, 20, 30, 7, 34]


def _absent(ws: Worksheet, report: NationalReport, st: Styles) -> None:
    for col, width in enumerate(_ABSENT_WIDTHS):
        ws.set_column(col, col, width)
    print_setup(ws, report, (2, 2))
    ws.write_string(0, 0, f"Субъекты без принятого отчёта за {report.period_title}", st.title)
    header(ws, 2, ["Код", "Субъект (единица)", "Федеральный округ", "Состояние", "Версия",
                   "Получен (МСК)", "Файл", "Ошибок", "Коды ошибок"], st)
    ws.set_row(2, 27)
    rows = sorted([*report.missing, *report.rejected], key=lambda a: a.unit)
    for row, item in enumerate(rows, start=3):
        ws.write_string(row, 0, item.unit, st.text)
        ws.write_string(row, 1, item.label, st.text)
        ws.write_string(row, 2, item.federal_district, st.text)
        ws.write_string(row, 3, STATUS_RU[item.status], st.text)
        ref = item.submission
        if ref is not None:
            codes = ", ".join(item.error_codes)
            ws.write_number(row, 4, ref.version, st.text)
            ws.write_datetime(row, 5, moscow(ref.received_at), st.date)
            ws.write_string(row, 6, ref.filename, st.wrap)
            ws.write_number(row, 7, item.errors, st.text)
            ws.write_string(row, 8, codes, st.wrap)
            lines = max(text_lines(ref.filename, _ABSENT_WIDTHS[6]),
                        text_lines(codes, _ABSENT_WIDTHS[8]))
            if lines > 1:
                ws.set_row(row, LINE_PT * lines)
    if not rows:
        ws.write_string(3, 0, "Все субъекты периода сдали принятые отчёты.", st.note)
    ws.freeze_panes(3, 0)


def _warnings(ws: Worksheet, report: NationalReport, st: Styles) -> None:
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 56)
    ws.set_column(2, 4, 14)
    print_setup(ws, report, (3, 3))
    ws.write_string(0, 0, "Предупреждения в принятых отчётах", st.title)
    ws.write_string(1, 0, "«Пояснено» — предупреждение, к которому регион дал пояснение "
                          "в книге (в проверке — уровень «Сведения»).", st.note)
    header(ws, 3, ["Код замечания", "Описание", "Предупреждений", "Пояснено",
                   "Единиц с замечанием"], st)
    ws.set_row(3, 27)
    row = 4
    for item in report.warnings:
        ws.write_string(row, 0, item.code, st.text)
        ws.write_string(row, 1, item.title, st.wrap)
        ws.write_number(row, 2, item.warnings, st.count)
        ws.write_number(row, 3, item.explained, st.count)
        ws.write_number(row, 4, item.units, st.count)
        if text_lines(item.title, 56) > 1:
            ws.set_row(row, LINE_PT * text_lines(item.title, 56))
        row += 1
    ws.write_string(row, 1, "Всего", st.bold)
    ws.write_number(row, 2, sum(w.warnings for w in report.warnings), st.count_bold)
    ws.write_number(row, 3, sum(w.explained for w in report.warnings), st.count_bold)


def _unit_warnings(ws: Worksheet, report: NationalReport, st: Styles) -> None:
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 50)
    ws.set_column(2, 3, 16)
    print_setup(ws, report, (2, 2))
    ws.write_string(0, 0, "Предупреждения в принятых отчётах по субъектам (единицам)", st.title)
    header(ws, 2, ["Код", "Субъект (единица)", "Предупреждений", "Пояснено"], st)
    row = 2
    for unit in report.units:
        if unit.warnings or unit.explained:
            row += 1
            ws.write_string(row, 0, unit.unit, st.text)
            ws.write_string(row, 1, unit.label, st.text)
            ws.write_number(row, 2, unit.warnings, st.count)
            ws.write_number(row, 3, unit.explained, st.count)
    if row == 2:
        ws.write_string(3, 0, "В принятых отчётах предупреждений нет.", st.note)
    ws.freeze_panes(3, 0)


_REPRO_WIDTHS = [10, 30, 7, 7, 20, 21, 11, 37, 12, 9, 26]


def _reproducibility(ws: Worksheet, report: NationalReport, st: Styles) -> None:
    rep = report.reproducibility
    for col, width in enumerate(_REPRO_WIDTHS):
        ws.set_column(col, col, width)
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
        ("Данные на (последнее поступление)", moscow_text(report.stamp)),
        ("Цели периода по показателям",
         "; ".join(f"{code} ≥ {value:g}" for code, value in rep.targets.items()) or "нет"),
        ("Национальные цели (настройка кампании)",
         "; ".join(f"{key} = {value:g}" for key, value in rep.national_targets.items())),
    ]
    # a fact's name spans «Единица» and «Субъект», its value starts at the third column
    for row, (key, value) in enumerate(facts, start=2):
        ws.merge_range(row, 0, row, 1, key, st.bold)
        if isinstance(value, str):
            ws.write_string(row, 2, value, st.text)
        else:
            ws.write_number(row, 2, value, st.text)
    row = len(facts) + 3
    ws.write_string(row, 0, "Входные файлы (последняя принятая версия каждой единицы; для "
                            "отклонённых — последняя полученная)", st.bold)
    row += 1
    header(ws, row, ["Единица", "Субъект", "Учтена", "Версия", "Получена (МСК)",
                     "Итог проверки", "Размер, байт", "SHA-256", "Форма", "Версия формы",
                     "Имя файла"], st)
    ws.set_row(row, 27)
    print_setup(ws, report, (row, row))
    names = {u.unit: u.label for u in report.units}
    names.update({a.unit: a.label for a in report.rejected})
    for ref in rep.inputs:
        row += 1
        _input_row(ws, row, ref, names.get(ref.unit, ""), st)
    ws.freeze_panes(len(facts) + 5, 0)


def _input_row(ws: Worksheet, row: int, ref: SubmissionRef, name: str, st: Styles) -> None:
    ws.write_string(row, 0, ref.unit, st.text)
    ws.write_string(row, 1, name, st.wrap)
    ws.write_string(row, 2, "да" if ref.used else "нет", st.text)
    ws.write_number(row, 3, ref.version, st.text)
    ws.write_datetime(row, 4, moscow(ref.received_at), st.date)
    ws.write_string(row, 5, ref.verdict, st.text)
    ws.write_number(row, 6, ref.size, st.count)
    ws.write_string(row, 7, ref.sha256, st.digest)
    ws.write_string(row, 8, ref.form_id, st.text)
    ws.write_string(row, 9, ref.form_version, st.text)
    ws.write_string(row, 10, ref.filename, st.wrap)
    # the SHA-256 takes two lines of its column; a long file name may take more
    ws.set_row(row, 12 * max(2, text_lines(ref.filename, _REPRO_WIDTHS[10]),
                             text_lines(name, _REPRO_WIDTHS[1])))
