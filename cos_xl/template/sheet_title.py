"""The title sheet: region, period and deadline (locked), the responsible person (inputs)."""

from __future__ import annotations

from cos_xl.template.context import TemplateContext
from cos_xl.template.layout import TITLE_VALUE_COL, ref
from cos_xl.template.writer import Sheet


def write_title(sheet: Sheet, ctx: TemplateContext, st: dict, names: dict[str, str],
                cells: dict[str, str]) -> None:
    ws, col = sheet.ws, TITLE_VALUE_COL
    ws.set_column(0, 0, 38)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2, 48)
    sheet.text(0, 0, ctx.form.spec.form.title, st["title"])
    sheet.text(1, 0, ctx.form.spec.form.basis, st["subtitle"])
    unit = ctx.unit
    fixed = [] if unit is None else [
        ("Муниципальное образование" if unit.kind == "municipality" else "Организация",
         unit.name, None),
        ("Код МО / организации", unit.unit_id, "unit_id"),
    ]
    fixed += [
        ("Субъект Российской Федерации", ctx.region.full_name, None),
        ("Код субъекта", ctx.region.code, "region_code"),
        ("Федеральный округ", ctx.region.federal_district, None),
        ("Отчётный период (код)", str(ctx.period), "period"),
        ("Отчётный период", ctx.period.title_ru, None),
    ]
    row = 3
    for label, value, name in fixed:
        sheet.text(row, 0, label, st["bold"])
        sheet.text(row, col, value, st["cell"])
        if name:
            names[name] = ref(sheet.name, row, col)
        row += 1
    for label, date, name in [
        ("Данные указываются по состоянию на", ctx.period.end, None),
        ("Срок представления", ctx.deadline, "deadline"),
        ("Шаблон сформирован", ctx.issued, None),
    ]:
        sheet.text(row, 0, label, st["bold"])
        sheet.date(row, col, date, st["date"])
        if name:
            names[name] = ref(sheet.name, row, col)
        row += 1

    row += 1
    for section in ctx.form.spec.sections:
        if section.sheet != "title":
            continue
        sheet.text(row, 0, section.title, st["section"])
        sheet.text(row, 1, "Заполните", st["section"])
        sheet.text(row, 2, "Подсказка", st["section"])
        row += 1
        for item in ctx.form.inputs:
            if item.section != section.id:
                continue
            sheet.text(row, 0, item.label, st["label"])
            cells[item.id] = sheet.input(row, col, st["input_text"])
            names[item.id] = ref(sheet.name, row, col)
            sheet.text(row, 2, item.hint, st["hint"])
            sheet.validate(row, col, {
                "validate": "length", "criteria": "<=", "value": 255,
                "input_title": item.short[:32], "input_message": item.hint[:255],
            })
            row += 1
        row += 1

    contact = ctx.contact
    sheet.text(row, 0, "Вопросы по заполнению", st["bold"])
    details = "; ".join(x for x in (contact.name, contact.phone, contact.email) if x)
    sheet.text(row, col, details, st["text"])
