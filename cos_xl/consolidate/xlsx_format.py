"""What every sheet of the national workbook shares: cell styles, Moscow time, Russian numbers,
and the print setup (A4 landscape, header rows on every page, «Стр. N из M» in the footer).

Every time printed is Moscow time and says so; it comes from the report (its stamp, the
receipts), never from the clock, so the same report still gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cos_xl.consolidate.model import NationalReport

#: Moscow time. A fixed UTC+3: Moscow has kept it all year since 26.10.2014, before any period
#: this tool reports, and a fixed offset needs no tz database on the federal team's machines.
MOSCOW = dt.timezone(dt.timedelta(hours=3), "MSK")
A4 = 9  # Excel's paper code
#: Page margins in inches: left/right, top/bottom (room for the running header and footer).
MARGIN_SIDE, MARGIN_TOP, MARGIN_BOTTOM, MARGIN_HEADER = 0.4, 0.7, 0.6, 0.3
#: Width available for cells on an A4 landscape page, in points (297 mm less both side margins).
PRINTABLE_WIDTH_PT = (297 / 25.4 - 2 * MARGIN_SIDE) * 72
PAGE_FOOTER = "&L&8&A&C&8Стр. &P из &N"
LINE_PT = 13.0  # height of one line of 10 pt text in a row, in points (a little to spare)


def moscow(moment: dt.datetime) -> dt.datetime:
    """``moment`` (aware; naive means UTC) as Moscow wall-clock time, naive for Excel cells."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(MOSCOW).replace(tzinfo=None)


def moscow_text(moment: dt.datetime) -> str:
    """«05.10.2020 12:00 (МСК)»."""
    return f"{moscow(moment):%d.%m.%Y %H:%M} (МСК)"


def int_ru(value: float) -> str:
    """851289 -> «851 289» (a no-break space between thousands)."""
    return f"{round(value):,}".replace(",", "\u00a0")


def share_ru(value: float, digits: int = 2) -> str:
    """14.98630 -> «14,99 %»; 25.0 -> «25 %»."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + "\u00a0%"


def column_points(width: float) -> float:
    """An Excel column width (characters) in points, as XlsxWriter converts it to pixels."""
    pixels = 0 if width <= 0 else (int(width * 7 + 0.5) + 5 if width >= 1 else
                                   int(width * 12 + 0.5))
    return pixels * 0.75


def text_lines(text: str, width: float) -> int:
    """Lines that ``text`` wraps to, word by word, in a column ``width`` characters wide (10 pt
    text), so that a row can be given its height: XlsxWriter does not fit heights to wrapped
    text, and an office program keeps a height it is given. Errs towards a line too many."""
    per_line = max(1, int(width * 1.1))
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split():
            if used and used + 1 + len(word) > per_line:
                lines += 1
                used = 0
            used += (1 if used else 0) + len(word)
            while used > per_line:  # a word longer than a line breaks anywhere
                lines += 1
                used -= per_line
    return max(1, lines)


class Styles:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.bold = wb.add_format({**base, "bold": True})
        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.note = wb.add_format({**base, "italic": True, "font_color": "#595959"})
        self.note_wrap = wb.add_format({**base, "italic": True, "font_color": "#595959",
                                        "text_wrap": True})
        self.header = wb.add_format({**base, "bold": True, "text_wrap": True, "border": 1,
                                     "bg_color": "#DDEBF7", "valign": "vcenter"})
        self.percent = wb.add_format({**base, "num_format": "0.00"})
        self.count = wb.add_format({**base, "num_format": "#,##0"})
        self.percent_bold = wb.add_format({**base, "num_format": "0.00", "bold": True})
        self.count_bold = wb.add_format({**base, "num_format": "#,##0", "bold": True})
        self.date = wb.add_format({**base, "num_format": "dd.mm.yyyy hh:mm:ss"})
        self.digest = wb.add_format({**base, "font_name": "Consolas", "font_size": 8,
                                     "text_wrap": True})
        self.centre = wb.add_format({**base, "align": "center"})
        self.centre_count = wb.add_format({**base, "align": "center", "num_format": "#,##0"})
        self.yes = wb.add_format({**base, "bold": True, "font_color": "#006100",
                                  "bg_color": "#C6EFCE"})
        self.no = wb.add_format({**base, "bold": True, "font_color": "#9C0006",
                                 "bg_color": "#FFC7CE"})
        self.no_note = wb.add_format({**base, "text_wrap": True, "font_color": "#9C0006"})

    def number(self, kind: str, bold: bool = False):
        if kind == "share":
            return self.percent_bold if bold else self.percent
        return self.count_bold if bold else self.count


def page_header(report: NationalReport) -> str:
    """The running header: what the report is, and the moment its data stand at."""
    return (f"&L&8Национальная сводка ЦОС, {report.period_title}"
            f"&R&8Данные на {moscow_text(report.stamp)}")


def print_setup(sheet, report: NationalReport, header_rows: tuple[int, int] | None = None,
                fit_width: bool = True) -> None:
    """A4 landscape, margins, running header and «Стр. &P из &N» footer; ``header_rows`` (first,
    last, 0-based) repeated on every page; scaled to one page wide unless ``fit_width`` is
    False (the caller then sets a scale and page breaks). Works for chart sheets too."""
    sheet.set_paper(A4)
    sheet.set_landscape()
    sheet.set_margins(left=MARGIN_SIDE, right=MARGIN_SIDE, top=MARGIN_TOP, bottom=MARGIN_BOTTOM)
    sheet.set_header(page_header(report), {"margin": MARGIN_HEADER})
    sheet.set_footer(PAGE_FOOTER, {"margin": MARGIN_HEADER})
    if header_rows is not None:
        sheet.repeat_rows(*header_rows)
    if fit_width:
        sheet.fit_to_pages(1, 0)


def num(ws: Worksheet, row: int, col: int, value: float | None, fmt) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def met_cell(ws: Worksheet, row: int, col: int, met: bool | None, st: Styles) -> None:
    if met is None:
        ws.write_blank(row, col, None, st.text)
    else:
        ws.write_string(row, col, "да" if met else "нет", st.yes if met else st.no)


def header(ws: Worksheet, row: int, titles: Sequence[str], st: Styles, col: int = 0) -> None:
    for offset, title in enumerate(titles):
        ws.write_string(row, col + offset, title, st.header)
