"""The worksheet XML of «Свод по МО»: every unit, its state, version, file digest and figures,
then the sums. Written as plain OOXML (inline strings, numbers, no formulas) with the styles
:data:`STYLES` that :mod:`cos_xl.rollup.package` adds to the workbook."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from cos_xl.periods import Period
from cos_xl.regions import Region
from cos_xl.rollup.layout import (
    FIGURE_WIDTH, FIRST_FIGURE_COL, FIRST_UNIT_ROW, HEADER_ROW, MARKER, MARKER_ROW,
    META_COLUMNS, NOT_COUNTED, SHA_TITLE, SHA_WIDTH, TITLE, TOTAL_LABEL,
)
from cos_xl.units import Unit, how_many
from cos_xl.xlsxtext import cell_name, col_letters, xml_text

MOSCOW = ZoneInfo("Europe/Moscow")
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ROLLUP_FOOTER = "Свод по МО (cos-xl rollup)"

__all__ = ["PRINT_TITLES", "STYLES", "Figure", "RollupTable", "Style", "UnitRow", "moscow",
           "sheet_xml"]


@dataclass(frozen=True)
class Style:
    """One cell format: font, fill (ARGB), thin borders, number format id, alignment."""

    bold: bool = False
    size: float | None = None
    fill: str | None = None
    border: bool = False
    num_fmt: int = 0
    wrap: bool = False
    horizontal: str | None = None
    vertical: str | None = "top"


#: The formats of the sheet by name; number format 3 is the built-in ``#,##0``.
STYLES: dict[str, Style] = {
    "title": Style(bold=True, size=14, vertical=None),
    "text": Style(vertical=None),
    "warn": Style(bold=True, fill="FFFFC7CE", vertical=None),
    "ok": Style(bold=True, fill="FFC6EFCE", vertical=None),
    "header": Style(bold=True, fill="FFD9D9D9", border=True, wrap=True, horizontal="center",
                    vertical="center"),
    "cell": Style(border=True, wrap=True),
    "center": Style(border=True, horizontal="center"),
    "number": Style(border=True, num_fmt=3),
    "missing": Style(border=True, wrap=True, fill="FFFFC7CE"),
    "missing_center": Style(border=True, horizontal="center", fill="FFFFC7CE"),
    "total": Style(bold=True, border=True, fill="FFD9D9D9"),
    "total_number": Style(bold=True, border=True, fill="FFD9D9D9", num_fmt=3),
    "digest": Style(border=True, size=8),
    "note": Style(wrap=True, vertical="top"),
    "note_warn": Style(bold=True, fill="FFFFC7CE", wrap=True, vertical="top"),
    "note_ok": Style(bold=True, fill="FFC6EFCE", wrap=True, vertical="top"),
}


@dataclass(frozen=True)
class Figure:
    """A count input summed by the rollup: its id, row number on «Данные» and short name."""

    input_id: str
    number: str
    short: str


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    state: str  # one of layout's ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED, MISSING
    version: int | None = None
    received: dt.datetime | None = None
    sha256: str | None = None
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def counted(self) -> bool:
        return self.state not in NOT_COUNTED


@dataclass(frozen=True)
class RollupTable:
    region: Region
    period: Period
    made_at: dt.datetime
    tool: str
    figures: tuple[Figure, ...]
    rows: tuple[UnitRow, ...]
    totals: dict[str, float]

    @property
    def missing(self) -> tuple[UnitRow, ...]:
        return tuple(row for row in self.rows if not row.counted)


def moscow(moment: dt.datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def _summary(table: RollupTable) -> tuple[str, str, str]:
    counted = len(table.rows) - len(table.missing)
    made = (f"Собрано {moscow(table.made_at)} (МСК) командой cos-xl rollup ({table.tool}): "
            f"в суммы вошли принятые отчёты {counted} из "
            f"{how_many(len(table.rows), genitive=True)}"
            " (последняя принятая версия каждого).")
    if table.missing:
        ids = ", ".join(row.unit.unit_id for row in table.missing[:10])
        more = "…" if len(table.missing) > 10 else ""
        return made, (f"СВОД НЕПОЛНЫЙ: нет принятых отчётов "
                      f"{how_many(len(table.missing), genitive=True)}"
                      f" ({ids}{more}) — значения субъекта занижены."), "note_warn"
    return made, "Свод полный: учтены отчёты всех МО/организаций.", "note_ok"


class _Writer:
    def __init__(self, styles: dict[str, int]):
        self.styles = styles
        self.rows: list[str] = []

    def row(self, number: int, cells: list[tuple[int, object, str]], height: float | None = None,
            hidden: bool = False) -> None:
        attrs = f' r="{number}"'
        if height is not None:
            attrs += f' ht="{height:g}" customHeight="1"'
        if hidden:
            attrs += ' hidden="1"'
        body = "".join(self._cell(number, col, value, style) for col, value, style in cells)
        self.rows.append(f"<row{attrs}>{body}</row>")

    def _cell(self, row: int, col: int, value: object, style: str) -> str:
        ref = cell_name(row, col)
        s = f' s="{self.styles[style]}"' if style else ""
        if value is None or value == "":
            return f'<c r="{ref}"{s}/>'
        if isinstance(value, bool) or not isinstance(value, int | float):
            text = xml_text(str(value))
            space = ' xml:space="preserve"' if text != text.strip() else ""
            return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'
        number = int(value) if float(value).is_integer() else value
        return f'<c r="{ref}"{s}><v>{number!r}</v></c>'


def _header_height(figures: tuple[Figure, ...]) -> float:
    longest = max((len(f"{f.number} {f.short}") for f in figures), default=10)
    lines = max(2, -(-longest // int(FIGURE_WIDTH * 1.1)))
    return 13.0 * min(lines, 8) + 2


#: characters of Arial 10 in the merged note cells A:G of the rows above the table
_NOTE_WIDTH = int(sum(width for _t, width in META_COLUMNS) * 1.1)
_NAME_WIDTH = int(META_COLUMNS[2][1] * 1.1)


def _lines(text: str, width: int) -> int:
    return max(1, -(-len(text) // width))


def sheet_xml(table: RollupTable, styles: dict[str, int]) -> bytes:
    """The worksheet part of «Свод по МО»; ``styles`` maps :data:`STYLES` names to the
    workbook's cellXfs indexes."""
    w = _Writer(styles)
    sha_col = FIRST_FIGURE_COL + len(table.figures)
    meta_last = len(META_COLUMNS)
    made, completeness, tone = _summary(table)
    notes = [(2, f"{table.region.full_name} (код {table.region.code}) — "
                 f"{table.period.title_ru}", "note"), (3, made, "note"), (4, completeness, tone),
             (5, "Значения на листе «Данные» — суммы столбцов по принятым отчётам (строка "
                 "«Итого»). Файлы отчётов хранятся в реестре сбора; SHA-256 — отпечаток файла "
                 "учтённой версии (последний столбец).", "note")]
    w.row(1, [(1, TITLE, "title")], height=21)
    for row, text, style in notes:
        w.row(row, [(1, text, style)] + [(col, None, style) for col in range(2, meta_last + 1)],
              height=13.0 * _lines(text, _NOTE_WIDTH) + 3)
    w.row(MARKER_ROW, [(1, MARKER, "")] + [
        (FIRST_FIGURE_COL + i, f.input_id, "") for i, f in enumerate(table.figures)],
        hidden=True)
    header = [(i + 1, title, "header") for i, (title, _w) in enumerate(META_COLUMNS)]
    header += [(FIRST_FIGURE_COL + i, f"{f.number} {f.short}", "header")
               for i, f in enumerate(table.figures)]
    header.append((sha_col, SHA_TITLE, "header"))
    w.row(HEADER_ROW, header, height=_header_height(table.figures))
    number = FIRST_UNIT_ROW
    for index, row in enumerate(table.rows, start=1):
        bad = not row.counted
        text, center, figure = (("missing", "missing_center", "missing") if bad
                                else ("cell", "center", "number"))
        cells: list[tuple[int, object, str]] = [
            (1, index, center), (2, row.unit.unit_id, center), (3, row.unit.name, text),
            (4, row.unit.kind_ru, text), (5, row.state, center),
            (6, row.version, center),
            (7, moscow(row.received) if row.received else None, center)]
        cells += [(FIRST_FIGURE_COL + i, row.figures.get(f.input_id) if row.counted else None,
                   figure) for i, f in enumerate(table.figures)]
        cells.append((sha_col, row.sha256 if row.counted else None,
                      "digest" if row.counted else "missing"))
        lines = max(_lines(row.unit.name, _NAME_WIDTH), _lines(row.unit.kind_ru, 17))
        w.row(number, cells, height=13.0 * lines + 2 if lines > 1 else None)
        number += 1
    total = [(1, None, "total"), (2, None, "total"), (3, TOTAL_LABEL, "total")]
    total += [(col, None, "total") for col in range(4, meta_last + 1)]
    total += [(FIRST_FIGURE_COL + i, table.totals.get(f.input_id, 0), "total_number")
              for i, f in enumerate(table.figures)]
    total.append((sha_col, None, "total"))
    w.row(number, total)
    cols = "".join(f'<col min="{i}" max="{i}" width="{width:g}" customWidth="1"/>'
                   for i, (_t, width) in enumerate(META_COLUMNS, start=1))
    if table.figures:
        cols += (f'<col min="{FIRST_FIGURE_COL}" max="{sha_col - 1}" width="{FIGURE_WIDTH}" '
                 'customWidth="1"/>')
    cols += f'<col min="{sha_col}" max="{sha_col}" width="{SHA_WIDTH}" customWidth="1"/>'
    merges = "".join(f'<mergeCell ref="A{row}:{col_letters(meta_last)}{row}"/>'
                     for row, _t, _s in notes)
    frozen = cell_name(FIRST_UNIT_ROW, 4)
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships">'
        f'<dimension ref="A1:{col_letters(sha_col)}{number}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        f'<pane xSplit="3" ySplit="{FIRST_UNIT_ROW - 1}" topLeftCell="{frozen}" '
        'activePane="bottomRight" state="frozen"/>'
        f'<selection pane="bottomRight" activeCell="{frozen}" sqref="{frozen}"/>'
        '</sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="13"/>'
        f"<cols>{cols}</cols>"
        f"<sheetData>{''.join(w.rows)}</sheetData>"
        '<sheetProtection sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0"/>'
        f'<mergeCells count="{len(notes)}">{merges}</mergeCells>'
        '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.6" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape"/>'
        '<headerFooter><oddFooter>&amp;L' + xml_text(ROLLUP_FOOTER) +
        '&amp;RСтр. &amp;P из &amp;N</oddFooter></headerFooter>'
        "</worksheet>")
    return xml.encode("utf-8")


#: rows and columns repeated on every printed page: the header and the unit (№, code, name)
PRINT_TITLES = f"'{{sheet}}'!$A:$C,'{{sheet}}'!${HEADER_ROW}:${HEADER_ROW}"
