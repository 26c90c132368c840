"""The indicators sheet: numerator, denominator and value of each indicator by native formulas,
target, status against it and the previous accepted value.

Which way the values were computed is said once, above the table, by a formula: the built-in
formulas (no xlwings add-in: LibreOffice, Р7-Офис, МойОфис, Excel without macros — the usual
case, not an error) or the ``COS_*`` functions, and then whether they agree with the formulas.
"""

from __future__ import annotations

from cos_xl.rules.inputs import excel_string
from cos_xl.spec.form import PREV_SAME_YEAR
from cos_xl.template.context import TemplateContext
from cos_xl.template.formulas import number_formula, share_formula
from cos_xl.template.layout import IND_COLS as C
from cos_xl.template.layout import IND_FIRST_ROW, address, cell, ref
from cos_xl.template.writer import Sheet

AGREE_YES, AGREE_NO = "совпадают", "расходятся"
ENGINE_ROW = IND_FIRST_ROW - 2
ENGINE_NATIVE = "Расчёт: встроенные формулы; функции COS_* не подключены"
ENGINE_UDF_SAME = "Расчёт: функции COS_* (надстройка xlwings); совпадают со встроенными формулами"
ENGINE_UDF_DIFF = ("Расчёт: функции COS_* (надстройка xlwings); в строках с отметкой "
                   f"«{AGREE_NO}» они расходятся со встроенными формулами")
STATUS_NONE, STATUS_MET, STATUS_NOT_MET = "—", "Достигнуто", "Не достигнуто"
ZERO_DENOMINATOR = "Знаменатель равен 0: показатель не рассчитывается."
#: A COS_* function of this workbook that answers whenever the add-in runs, whatever the inputs.
UDF_PROBE = 'ISNUMBER(SEARCH("cos-xl",COS_VERSION()))'


def udf_call(form, ind) -> str:
    """``COS_E403(e403_go,…)``: the UDF with the named inputs as arguments, so that Excel
    recalculates it when an input changes."""
    return f"{ind.spec.udf}({','.join(form.excel_name(n) for n in ind.arguments)})"


def agreement_formula(call: str, native_cell: str) -> str:
    """Whether the UDF and the native formula agree; empty when there is nothing to compare
    (the UDF cannot run, or the indicator is not computed)."""
    return (f'IFERROR(IF({call}={native_cell},"{AGREE_YES}",IF(ABS({call}-{native_cell})'
            f'<0.000000001,"{AGREE_YES}","{AGREE_NO}")),"")')


def engine_formula(agree_range: str) -> str:
    """The one line above the table that says how the values were computed."""
    return (f'IFERROR(IF({UDF_PROBE},IF(COUNTIF({agree_range},"{AGREE_NO}")>0,'
            f'"{ENGINE_UDF_DIFF}","{ENGINE_UDF_SAME}"),"{ENGINE_NATIVE}"),"{ENGINE_NATIVE}")')


def status_formula(value_cell: str, target_cell: str) -> str:
    """«—» when there is no value (a zero denominator) or no target, else met or not."""
    return (f'IF({value_cell}="","{STATUS_NONE}",IF({target_cell}="","{STATUS_NONE}",'
            f'IF({value_cell}>={target_cell},"{STATUS_MET}","{STATUS_NOT_MET}")))')


def status_text(value: object, target: float | None) -> str:
    """What :func:`status_formula` shows for a computed value (None: no value)."""
    if value is None or value == "" or target is None:
        return STATUS_NONE
    return STATUS_MET if value >= target else STATUS_NOT_MET


def note_formula(den_cell: str, national_note: str) -> str:
    """A share's note: why it has no value when its denominator is 0, then the static note."""
    zero = f'IFERROR(IF({den_cell}=0,"{ZERO_DENOMINATOR}",""),"")'
    if not national_note:
        return zero
    return f'{zero}&IFERROR(IF({den_cell}=0," ",""),"")&{excel_string(national_note)}'


def note_text(denominator: object, national_note: str) -> str:
    """What :func:`note_formula` shows for a denominator (an error value: no zero note)."""
    zero = isinstance(denominator, int | float) and not isinstance(denominator, bool) \
        and denominator == 0
    return " ".join(x for x in (ZERO_DENOMINATOR if zero else "", national_note) if x)


def write_indicators(sheet: Sheet, ctx: TemplateContext, st: dict, names: dict[str, str],
                     cells: dict[str, str], cached: dict[str, object]) -> None:
    ws = sheet.ws
    widths = {"code": 10, "title": 60, "num": 14, "den": 14, "value": 12, "unit": 7,
              "target": 9, "status": 15, "prev": 14, "native": 14, "agree": 18, "note": 40}
    for key, width in widths.items():
        ws.set_column(C[key], C[key], width)
    sheet.text(0, 0, "Показатели (рассчитываются автоматически)", st["title"])
    sheet.text(1, 0, ctx.heading, st["subtitle"])
    sheet.text(2, 0, "Предыдущий принятый период:", st["bold"])
    prev_text = str(ctx.previous_period) if ctx.previous_period else "нет данных"
    sheet.text(2, C["num"], prev_text, st["text"])
    sheet.text(2, C["value"], "Тот же год:", st["bold"])
    sheet.number(2, C["target"], 1 if ctx.prev_same_year else 0, st["yes_no"])
    names[PREV_SAME_YEAR] = ref(sheet.name, 2, C["target"])
    header = {"code": "Код", "title": "Показатель", "num": "Числитель", "den": "Знаменатель",
              "value": "Значение", "unit": "Ед. изм.", "target": "Цель", "status": "Статус",
              "prev": "Предыдущий период", "native": "Встроенная формула",
              "agree": "Сверка с функцией COS_*", "note": "Примечание"}
    first, last = IND_FIRST_ROW, IND_FIRST_ROW + len(ctx.form.indicators) - 1
    agree_range = f"{cell(first, C['agree'], True)}:{cell(last, C['agree'], True)}"
    # Cached as without the add-in, the usual case; Excel with the add-in recalculates it.
    sheet.formula(ENGINE_ROW, 0, engine_formula(agree_range), st["subtitle"], ENGINE_NATIVE)
    row = IND_FIRST_ROW - 1
    for key, text in header.items():
        sheet.text(row, C[key], text, st["header"])
    ws.set_row(row, 27)
    ws.freeze_panes(IND_FIRST_ROW, 0)

    row = IND_FIRST_ROW
    for ind in ctx.form.indicators:
        spec = ind.spec
        share = spec.kind == "share"
        sheet.text(row, C["code"], spec.code, st["center"])
        sheet.text(row, C["title"], spec.title, st["label"])
        sheet.formula(row, C["num"], number_formula(ctx.form, ind.numerator), st["number"],
                      cached.get(spec.num_name))
        names[spec.num_name] = ref(sheet.name, row, C["num"])
        if share:
            sheet.formula(row, C["den"], number_formula(ctx.form, ind.denominator), st["number"],
                          cached.get(spec.den_name))
            names[spec.den_name] = ref(sheet.name, row, C["den"])
            native = share_formula(spec.num_name, spec.den_name)
        else:
            sheet.text(row, C["den"], "—", st["center"])
            native = spec.num_name
        # The value is the UDF's when it can run, else the native formula's (no add-in, macros
        # blocked, LibreOffice, Р7-Офис, МойОфис): both compute the same thing.
        native_cell = cell(row, C["native"])
        sheet.formula(row, C["native"], native,
                      st["share"] if share else st["number"], cached.get(spec.name))
        # "+0": a wrapper that cannot reach Python may hand back "" or Empty instead of an
        # error value (LibreOffice running the VBA does); +0 turns that into #VALUE! so that
        # IFERROR falls back. A share the UDF leaves empty falls back to the same empty value.
        call = f"{udf_call(ctx.form, ind)}+0"
        sheet.formula(row, C["value"], f"IFERROR({call},{native_cell})",
                      st["computed_share"] if share else st["computed_count"], cached.get(spec.name))
        sheet.formula(row, C["agree"], agreement_formula(call, native_cell), st["center"], "")
        names[spec.name] = ref(sheet.name, row, C["value"])
        cells[spec.name] = address(sheet.name, row, C["value"])
        sheet.text(row, C["unit"], spec.unit, st["center"])
        target = ctx.targets.get(spec.code)
        if target is None:
            sheet.blank(row, C["target"], st["center"])
        else:
            sheet.number(row, C["target"], target, st["share"] if share else st["number"])
        value_cell, target_cell = cell(row, C["value"]), cell(row, C["target"])
        sheet.formula(row, C["status"], status_formula(value_cell, target_cell), st["center"],
                      status_text(cached.get(spec.name), target))
        previous = ctx.previous.get(spec.code)
        if previous is None:
            sheet.blank(row, C["prev"], st["center"])
        else:
            sheet.number(row, C["prev"], previous, st["share"] if share else st["number"])
        names[spec.prev_name] = ref(sheet.name, row, C["prev"])
        if share:
            note = note_text(cached.get(spec.den_name), spec.national_note)
            sheet.formula(row, C["note"], note_formula(cell(row, C["den"]), spec.national_note),
                          st["hint"], note)
            note = note_text(0, spec.national_note)  # the longest it can be
        else:
            note = spec.national_note
            sheet.text(row, C["note"], note, st["hint"])
        sheet.fit_row(row, [(spec.title, widths["title"]), (note, widths["note"])])
        row += 1

