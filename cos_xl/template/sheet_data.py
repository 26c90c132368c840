"""The data sheet: every numeric and choice input by section, with units, hints, validation."""

from __future__ import annotations

from cos_xl.spec import Input
from cos_xl.spec.models import excel_defined_name
from cos_xl.template.context import TemplateContext
from cos_xl.template.layout import DATA_COLS as C
from cos_xl.template.layout import DATA_FIRST_ROW, ref
from cos_xl.template.writer import Sheet

# An upper bound for "of them" while its total is still empty, so the order of typing is free.
_NO_TOTAL_YET = 1_000_000_000


def _validation(item: Input, list_names: dict[str, str]) -> dict:
    common = {"input_title": item.short[:32], "input_message": item.hint[:255],
              "error_title": "Неверное значение"}
    if item.kind == "count":
        if item.part_of:
            total = excel_defined_name(item.part_of)
            return {**common, "validate": "integer", "criteria": "between", "minimum": 0,
                    "maximum": f"=IF(ISNUMBER({total}),{total},{_NO_TOTAL_YET})",
                    "error_message": "Введите целое число от 0 до значения итоговой строки: только "
                                     "цифры, без пробелов и запятой (1200000, а не "
                                     "«1 200 000»)."}
        return {**common, "validate": "integer", "criteria": ">=", "value": 0,
                "error_message": "Введите целое число не меньше 0: только цифры, без пробелов и "
                                 "запятой (1200000, а не «1 200 000» или «1200000,0»)."}
    if item.kind == "choice":
        return {**common, "validate": "list", "source": "=" + list_names[item.choices],
                "error_message": "Выберите значение из списка; другие системы укажите в "
                                 "следующей строке."}
    return {**common, "validate": "length", "criteria": "<=", "value": 255,
            "error_message": "Не больше 255 знаков."}


WIDTHS = {"no": 6, "label": 70, "unit": 8, "value": 18, "hint": 40, "id": 16}


def write_data(sheet: Sheet, ctx: TemplateContext, st: dict, names: dict[str, str],
               cells: dict[str, str], list_names: dict[str, str]) -> None:
    ws = sheet.ws
    for key, width in WIDTHS.items():
        ws.set_column(C[key], C[key], width)
    sheet.text(0, 0, ctx.form.spec.form.title, st["title"])
    sheet.text(1, 0, ctx.heading, st["subtitle"])
    sheet.text(2, 0, "Заполните жёлтые ячейки: целые числа не меньше 0 по состоянию на последний "
                     "день отчётного периода; остальные ячейки защищены.", st["subtitle"])
    header = {"no": "№", "label": "Показатель", "unit": "Ед. изм.", "value": "Значение",
              "hint": "Подсказка", "id": "Код поля"}
    row = DATA_FIRST_ROW - 1
    for key, text in header.items():
        sheet.text(row, C[key], text, st["header"])
    ws.set_row(row, 27)
    ws.freeze_panes(DATA_FIRST_ROW, 0)
    row = DATA_FIRST_ROW
    data_sections = [s for s in ctx.form.spec.sections if s.sheet == "data"]
    for section in data_sections:
        sheet.merge_text(row, C["no"], row, C["id"], section.title, st["section"])
        row += 1
        for item in ctx.form.inputs:
            if item.section != section.id:
                continue
            sheet.text(row, C["no"], ctx.form.row_numbers[item.id], st["center"])
            sheet.text(row, C["label"], item.label, st["label"])
            sheet.text(row, C["unit"], item.unit, st["center"])
            fmt = st["input_count"] if item.kind == "count" else st["input_text"]
            cells[item.id] = sheet.input(row, C["value"], fmt)
            names[item.id] = ref(sheet.name, row, C["value"])
            sheet.text(row, C["hint"], item.hint, st["hint"])
            sheet.fit_row(row, [(item.label, WIDTHS["label"]), (item.hint, WIDTHS["hint"])])
            sheet.text(row, C["id"], item.id, st["small"])
            sheet.validate(row, C["value"], _validation(item, list_names))
            row += 1
