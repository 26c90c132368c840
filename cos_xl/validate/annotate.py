"""The annotated copy sent back to a region: the returned workbook with the cells of the
findings highlighted and commented, and a sheet «Замечания» in front that says, in Russian,
the region, the period, the verdict in words, what to do next and one row per finding with a
link to its cell. The sheet is sealed (:mod:`cos_xl.validate.annotation`), so the region may fix
the cells in this very copy and send it back: the validator sets its own sheet aside.

The original file is never modified. openpyxl rewrites the copy; it keeps every cell, name,
protection, validation and the VBA project, and drops the cached results of formulas (an office
program recalculates them on opening; the validator says so with an ``info`` finding).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from cos_xl.findings import SEVERITY_RU, Finding
from cos_xl.plural import quantity
from cos_xl.signing import SigningKey
from cos_xl.template.layout import MANIFEST_PAYLOAD_CELL, SHEET_MANIFEST
from cos_xl.template.writer import fitted_height
from cos_xl.validate.annotation import (
    ANNOTATION_SHEET,
    FILLS_COLUMN,
    SEAL_CELL,
    SEAL_COLUMN,
    seal,
)
from cos_xl.validate.run import FileResult

MOSCOW = ZoneInfo("Europe/Moscow")
AUTHOR = "cos-xl"
VERDICT_WORDS = {"PASS": "Принят", "PASS_WITH_WARNINGS": "Принят с предупреждениями",
                 "FAIL": "Не принят"}
_FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
_VERDICT_FILL = {"PASS": "C6EFCE", "PASS_WITH_WARNINGS": "FFEB9C", "FAIL": "FFC7CE"}
#: column letter -> (header, width); the message comes first, the code last
COLUMNS = {"A": ("Замечание", 95), "B": ("Ячейка", 15), "C": ("Вид", 16),
           "D": ("Значение", 16), "E": ("Код", 28)}
HEADER_ROW = 8

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_SUFFIX = "_zamechaniya"


def annotated_path(source: Path, out_dir: Path) -> Path:
    """A file name inside ``out_dir`` whatever the returned file was called; a copy annotated
    again keeps one ``_zamechaniya``."""
    stem = _SAFE_NAME.sub("_", source.stem).strip("._") or "workbook"
    while stem.endswith(_SUFFIX) and stem != _SUFFIX:
        stem = stem[: -len(_SUFFIX)]
    suffix = source.suffix.lower() if source.suffix.lower() in (".xlsx", ".xlsm") else ".xlsx"
    return out_dir / f"{stem}{_SUFFIX}{suffix}"


def ru_number(value: object, percent: bool = False) -> str:
    """``1 200 000``, ``12,5``, ``99,3 %`` — as a Russian reader writes numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if percent:
        return f"{value:.1f}".replace(".", ",") + " %"
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u00a0")
    whole, _, fraction = f"{value:.6f}".rstrip("0").partition(".")
    return f"{int(whole):,}".replace(",", "\u00a0") + ("," + fraction if fraction else "")


def _what_to_do(verdict: str) -> str:
    if verdict == "FAIL":
        return ("Что делать: исправьте ошибки — ячейки выделены красным, щёлкните адрес в "
                "столбце «Ячейка», чтобы перейти к ней. Исправлять можно прямо в этой книге или "
                "в своём исходном файле: принимаются оба. Предупреждения (жёлтые ячейки) можно "
                "оставить, если на листе «Проверки» в столбце «Пояснение» написать, почему "
                "значение верно. Затем сохраните книгу в формате Excel (.xlsm или .xlsx) и "
                "отправьте её снова; лист «Замечания» удалять не нужно.")
    if verdict == "PASS_WITH_WARNINGS":
        return ("Что делать: файл принят. Посмотрите предупреждения (жёлтые ячейки): если "
                "значение верно, напишите пояснение на листе «Проверки» в столбце «Пояснение»; "
                "если это ошибка — исправьте её. Исправленную книгу (эту или свою) сохраните "
                "в формате Excel (.xlsm или .xlsx) и отправьте снова; учитывается последняя "
                "принятая версия.")
    return "Что делать: ничего — файл принят."


def _counts(findings: list[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    parts = [quantity(counts["error"], "ошибка", "ошибки", "ошибок")] if counts["error"] \
        else []
    if counts["warning"]:
        parts.append(quantity(counts["warning"], "предупреждение", "предупреждения",
                                  "предупреждений"))
    return ", ".join(parts) or "замечаний нет"


def _region_line(result: FileResult, manifest: dict) -> str:
    code = result.region_code or manifest.get("region_code")
    if not code:
        return "Субъект: не определён (в файле нет манифеста шаблона)"
    try:
        from cos_xl.regions import get_region
        name = get_region(code).full_name
    except Exception:  # a code the reference table does not know: say the code
        name = str(manifest.get("region_name") or "")
    line = f"Субъект: {name} (код {code})" if name else f"Субъект: код {code}"
    unit = manifest.get("unit") if result.unit_id else None
    if isinstance(unit, dict):  # one level down: say whose return it is first
        kind = "МО" if unit.get("kind") == "municipality" else "Организация"
        line = f"{kind}: {unit.get('name')} (код {unit.get('id')}); {line[0].lower()}{line[1:]}"
    return line


def _period_line(result: FileResult) -> str:
    if not result.period:
        return "Период: не определён"
    try:
        from cos_xl.periods import Period
        return f"Период: {Period.parse(result.period).title_ru} ({result.period})"
    except Exception:  # a period text the parser refuses: show it as it is
        return f"Период: {result.period}"


def _shares(manifest: dict) -> set[str]:
    """The names of the indicators in percent, to show their values as ``99,3 %``."""
    try:
        from cos_xl.validate.expected import form_for
        form = form_for(manifest)
    except Exception:  # no or an unknown form: plain numbers
        return set()
    return {ind.spec.name for ind in form.indicators if ind.spec.kind == "share"}


def _where(f: Finding) -> tuple[str, str | None]:
    """The cell's address as shown, and the link's location inside the workbook."""
    if f.sheet and f.cell:
        return f"{f.sheet}!{f.cell}", f"'{f.sheet}'!{f.cell}"
    if f.sheet:
        return f.sheet, f"'{f.sheet}'!A1"
    return "—", None


def _restore_previous(wb) -> None:
    """Undo an earlier annotation of this copy: its sheet, highlights and notes."""
    if ANNOTATION_SHEET not in wb.sheetnames:
        return
    from openpyxl.styles import PatternFill

    old = wb[ANNOTATION_SHEET]
    try:
        fills = json.loads(old[f"{FILLS_COLUMN}1"].value or "{}")
    except (TypeError, ValueError):
        fills = {}
    for address, fill in fills.items() if isinstance(fills, dict) else ():
        sheet, _, ref = str(address).rpartition("!")
        if sheet not in wb.sheetnames or sheet == ANNOTATION_SHEET:
            continue
        try:
            cell = wb[sheet][ref]
        except (KeyError, ValueError):
            continue
        kind, colour = (fill or [None, None])[:2]
        cell.fill = (PatternFill(kind, fgColor=colour, bgColor=colour) if kind and colour
                     else PatternFill(kind) if kind else PatternFill())
        # ours: LibreOffice drops a note's author on saving, so the words tell
        if cell.comment is not None and (cell.comment.author == AUTHOR or str(
                cell.comment.text).startswith(tuple(f"{w}: " for w in SEVERITY_RU.values()))):
            cell.comment = None
    wb.remove(old)


def _original_fill(cell) -> list:
    fill = cell.fill
    colour = getattr(fill.fgColor, "rgb", None) if fill is not None else None
    return [fill.fill_type if fill is not None else None,
            colour if isinstance(colour, str) else None]


def annotate(result: FileResult, out_dir: Path, key: SigningKey) -> Path | None:
    """Write the annotated copy of ``result``'s file into ``out_dir``; its path, or None when
    the file cannot be opened as a workbook (its findings say why)."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.hyperlink import Hyperlink

    try:
        wb = openpyxl.load_workbook(result.path, keep_vba=result.path.suffix.lower() == ".xlsm")
    except Exception:  # a file the safety layer rejected or openpyxl cannot read
        return None
    _restore_previous(wb)
    manifest = result.manifest or {}
    manifest_text = None
    if SHEET_MANIFEST in wb.sheetnames:
        value = wb[SHEET_MANIFEST][MANIFEST_PAYLOAD_CELL].value
        manifest_text = value if isinstance(value, str) else None
        if not manifest and manifest_text:
            try:
                manifest = json.loads(manifest_text)
            except ValueError:
                manifest = {}
    findings = list(result.findings)

    # highlights and notes on the cells, remembering the fills they had
    notes: dict[tuple[str, str], list[str]] = {}
    before: dict[str, list] = {}
    rank = {"error": 0, "warning": 1, "info": 2}
    worst: dict[tuple[str, str], str] = {}
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell:
            place = (f.sheet, f.cell)
            notes.setdefault(place, []).append(f"{SEVERITY_RU[f.severity]}: {f.message}")
            if place not in worst or rank[f.severity] < rank[worst[place]]:
                worst[place] = f.severity
    for (sheet, ref), severity in worst.items():
        cell = wb[sheet][ref]
        before[f"{sheet}!{ref}"] = _original_fill(cell)
        colour = _FILLS[severity]
        cell.fill = PatternFill("solid", fgColor=colour, bgColor=colour)
        cell.comment = Comment("\n".join(notes[(sheet, ref)])[:30000], AUTHOR,
                               width=420, height=160)

    ws = wb.create_sheet(ANNOTATION_SHEET, 0)

    def font(**kwargs) -> Font:  # one face for the sheet, as the template's (row heights)
        return Font(name="Arial", size=kwargs.pop("size", 10), **kwargs)

    bold = font(bold=True)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    texts: dict[str, str] = {}

    def put(ref: str, text: str, face=None, fill: str | None = None, align=wrap_top) -> None:
        cell = ws[ref]
        cell.value = text
        cell.data_type = "s"  # a message is text, never a formula
        cell.alignment = align
        cell.font = face if face is not None else font()
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill, bgColor=fill)
        texts[ref] = text

    checked = dt.datetime.now(MOSCOW).strftime("%d.%m.%Y %H:%M")
    verdict_line = f"Итог проверки: {VERDICT_WORDS[result.verdict]} — {_counts(findings)}"
    put("A1", "Замечания по итогам проверки", font(bold=True, size=13), align=None)
    put("A2", _region_line(result, manifest))
    put("A3", _period_line(result))
    put("A4", verdict_line, bold, _VERDICT_FILL[result.verdict])
    put("A5", f"Файл: {result.path.name}; проверен {checked} (МСК)")
    put("A6", _what_to_do(result.verdict))
    ws.row_dimensions[6].height = fitted_height([(texts["A6"], COLUMNS["A"][1])])
    thin = Side(style="thin", color="A6A6A6")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for column, (header, width) in COLUMNS.items():
        put(f"{column}{HEADER_ROW}", header, bold, "D9E1F2",
            Alignment(wrap_text=True, vertical="center"))
        ws[f"{column}{HEADER_ROW}"].border = border
        ws.column_dimensions[column].width = width
    shares = _shares(manifest)
    order = sorted(findings, key=lambda f: rank[f.severity])
    row = HEADER_ROW
    for row, f in enumerate(order, start=HEADER_ROW + 1):
        shown, location = _where(f)
        value = ru_number(f.value, percent=f.name in shares) if f.value is not None else ""
        put(f"A{row}", f.message)
        put(f"B{row}", shown)
        if location:
            ws[f"B{row}"].hyperlink = Hyperlink(ref=f"B{row}", location=location,
                                                display=shown)
            ws[f"B{row}"].font = font(color="0563C1", underline="single")
        put(f"C{row}", SEVERITY_RU[f.severity], fill=_FILLS[f.severity])
        put(f"D{row}", value, align=Alignment(horizontal="right", vertical="top"))
        put(f"E{row}", f.code)
        for column in COLUMNS:
            ws[f"{column}{row}"].border = border
        ws.row_dimensions[row].height = fitted_height(
            [(f.message, COLUMNS["A"][1]), (f.code, COLUMNS["E"][1])])
    if not order:
        row = HEADER_ROW + 1
        put(f"A{row}", "Замечаний нет.")
    footer = row + 2
    put(f"A{footer}", "Этот лист добавлен при проверке и защищён от изменения. При повторной "
                      "отправке он не учитывается; удалять его не нужно.",
        font(italic=True, color="595959"))

    # the seal, and the fills to put back when this copy is annotated again, in hidden cells
    put(f"{FILLS_COLUMN}1", json.dumps(before, ensure_ascii=False, sort_keys=True))
    if manifest_text:
        ws[SEAL_CELL] = seal(texts, manifest_text, key)
        ws[SEAL_CELL].data_type = "s"
    for column in (SEAL_COLUMN, FILLS_COLUMN):
        ws.column_dimensions[column].hidden = True

    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:E{footer}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet is ws
    out_dir.mkdir(parents=True, exist_ok=True)
    target = annotated_path(result.path, out_dir)
    wb.save(target)
    return target
