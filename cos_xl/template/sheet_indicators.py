"""The indicators sheet: numerator, denominator and value of each indicator by native formulas,
target, status against it and the previous accepted value."""

from __future__ import annotations

from cos_xl.spec.form import PREV_SAME_YEAR
from cos_xl.template.context import TemplateContext
from cos_xl.template.formulas import number_formula, share_formula
from cos_xl.template.layout import IND_COLS as C
from cos_xl.template.layout import IND_FIRST_ROW, address, cell, ref
from cos_xl.template.writer import Sheet


AGREE_YES, AGREE_NO = "совпадают", "расходятся"
AGREE_NA = "н/д: функции COS_* недоступны"


def udf_call(form, ind) -> str:
    """``COS_E403(e403_go,…)``: the UDF with the named inputs as arguments, so that Excel
    recalculates it when an input changes."""
    return f"{ind.spec.udf}({','.join(form.excel_name(n) for n in ind.arguments)})"


def agreement_formula(call: str, native_cell: str) -> str:
    """Whether the UDF and the native formula agree; "н/д" when the UDF cannot run."""
    return (f'IFERROR(IF({call}={native_cell},"{AGREE_YES}",IF(ABS({call}-{native_cell})'
            f'<0.000000001,"{AGREE_YES}","{AGREE_NO}")),"{AGREE_NA}")')


def status_formula(value_cell: str, target_cell: str) -> str:
    return (f'IF({value_cell}="","Нет данных",IF({target_cell}="","—",'
            f'IF({value_cell}>={target_cell},"Достигнуто","Не достигнуто")))')


def write_indicators(sheet: Sheet, ctx: TemplateContext, st: dict, names: dict[str, str],
                     cells: dict[str, str], cached: dict[str, object]) -> None:
    ws = sheet.ws
    widths = {"code": 10, "title": 60, "num": 14, "den": 14, "value": 12, "unit": 7,
              "target": 9, "status": 15, "prev": 14, "native": 14, "agree": 16, "note": 40}
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
              "prev": "Предыдущий период", "native": "Без надстройки (формула)",
              "agree": "Функция COS_* и формула", "note": "Примечание"}
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
        sheet.formula(row, C["agree"], agreement_formula(call, native_cell), st["center"],
                      AGREE_NA)
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
                      _status(cached.get(spec.name), target))
        previous = ctx.previous.get(spec.code)
        if previous is None:
            sheet.blank(row, C["prev"], st["center"])
        else:
            sheet.number(row, C["prev"], previous, st["share"] if share else st["number"])
        names[spec.prev_name] = ref(sheet.name, row, C["prev"])
        sheet.text(row, C["note"], spec.national_note, st["hint"])
        sheet.fit_row(row, [(spec.title, widths["title"]), (spec.national_note, widths["note"])])
        row += 1


def _status(value, target) -> str:
    if value is None or value == "":
        return "Нет данных"
    if target is None:
        return "—"
    return "Достигнуто" if value >= target else "Не достигнуто"
