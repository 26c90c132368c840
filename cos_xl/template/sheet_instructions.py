"""The instructions sheet: how to fill, the deadline, the contact, the methodology of each
indicator in plain words and the list of information systems (source of the drop-downs)."""

from __future__ import annotations

from cos_xl.template.context import TemplateContext
from cos_xl.template.layout import ref
from cos_xl.template.writer import Sheet


#: How to type a number, as the data sheet's input messages say it.
NUMBERS = ("только цифры, без пробелов между разрядами и без запятой: 1200000, а не «1 200 000» "
           "или «1200000,0»")
#: The formats a return is accepted in, as Excel's «Сохранить как» names them.
FORMATS = ("«Книга Excel с поддержкой макросов (.xlsm)» или «Книга Excel (.xlsx)»; форматы .ods, "
           ".xls, CSV не принимаются")


def _filling(ctx: TemplateContext) -> list[str]:
    return [
        "Заполните жёлтые ячейки на листах «Титул» (ответственный) и «Данные» (числа). "
        "Остальные ячейки защищены от изменения.",
        f"Все числа — целые, не меньше нуля, {NUMBERS}; без букв и формул. Данные указываются "
        f"по состоянию на {ctx.period.end:%d.%m.%Y} (нарастающим итогом, а не за квартал).",
        "Строки «из них» не могут быть больше своей итоговой строки.",
        "Учитываются данные не только федеральных, но и региональных и иных информационных "
        "систем (письмо № ГД-1452/04). В разделе 5 листа «Данные» укажите, данные каких систем "
        "учтены в каждом показателе.",
        "Лист «Показатели» рассчитывается автоматически обычными формулами. Макросы для этого не "
        "нужны: если программа спрашивает, включить ли макросы, можно отказаться — это безопасно, "
        "значения будут те же. Надстройка cos_xl для Excel (функции COS_*) не обязательна; над "
        "таблицей показателей написано, чем посчитаны значения.",
        "Откройте лист «Проверки»: все ошибки нужно исправить. Предупреждение можно оставить, "
        "если в столбце «Пояснение» написать, почему значение верно.",
        "Не переименовывайте и не удаляйте листы, не вставляйте строки, не копируйте ячейки из "
        "других файлов поверх формул: целостность файла проверяется при приёме.",
    ]


def _sending(ctx: TemplateContext) -> list[str]:
    contact = "; ".join(x for x in (ctx.contact.name, ctx.contact.phone, ctx.contact.email) if x)
    unit = [] if ctx.unit is None else [
        # No name here: a row's height follows its text, and the text must not depend on the
        # unit (the batch renders every unit from one skeleton, byte for byte as the builder).
        f"Это отчёт {'муниципального образования' if ctx.unit.kind == 'municipality' else 'организации'}"
        " (название и код — на листе «Титул»). Отправьте его в орган управления образованием "
        "субъекта: из принятых отчётов МО и организаций собирается отчёт субъекта, поэтому "
        "сдавайте свой файл, а не чужой.",
    ]
    return unit + [
        f"Сохраните файл как {FORMATS}. Книга .xlsx без макросов принимается так же, как .xlsm. "
        "В LibreOffice, Р7-Офис и МойОфис выберите при сохранении формат Excel 2007–365 (.xlsx) "
        "и подтвердите, что сохраняете в этом формате.",
        f"Срок представления: {ctx.deadline:%d.%m.%Y}. Вопросы по заполнению: {contact}.",
        "Если файл не принят или есть замечания, исправьте его и пришлите ещё раз. Если вам "
        "вернули копию с замечаниями (файл «…_zamechaniya»), исправить отмеченные ячейки можно "
        "в этой копии или в своём файле — принимаются оба. Каждая присланная версия "
        "сохраняется; учитывается последняя принятая.",
    ]


def _numbered(sheet: Sheet, row: int, title: str, steps: list[str], st: dict) -> int:
    """A bold title and numbered steps, each across columns B:C; the next free row."""
    sheet.text(row, 0, title, st["bold"])
    row += 1
    for number, step in enumerate(steps, start=1):
        sheet.text(row, 0, f"{number}.", st["center"])
        sheet.merge_text(row, 1, row, 2, step, st["text"])
        sheet.fit_row(row, [(step, 140)])
        row += 1
    return row


def write_instructions(sheet: Sheet, ctx: TemplateContext, st: dict, names: dict[str, str],
                       list_names: dict[str, str]) -> None:
    ws = sheet.ws
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 70)
    ws.set_column(2, 2, 70)
    ws.set_column(3, 4, 12)
    sheet.text(0, 0, ctx.form.spec.form.title, st["title"])
    sheet.text(1, 0, ctx.heading, st["subtitle"])
    sheet.text(2, 0, ctx.form.spec.form.basis, st["subtitle"])
    row = _numbered(sheet, 4, "Как заполнить", _filling(ctx), st)
    row = _numbered(sheet, row + 1, "Как сохранить и отправить", _sending(ctx), st)

    row += 1
    sheet.text(row, 0, "Как рассчитываются показатели", st["bold"])
    row += 1
    for col, text in enumerate(["Код", "Показатель", "Как считается", "Ед. изм.", "Цель"]):
        sheet.text(row, col, text, st["header"])
    row += 1
    for ind in ctx.form.indicators:
        spec = ind.spec
        sheet.text(row, 0, spec.code, st["center"])
        sheet.text(row, 1, spec.title, st["label"])
        method = f"{spec.method} (пункт {spec.letter_item} письма)"
        sheet.text(row, 2, method, st["label"])
        sheet.fit_row(row, [(spec.title, 70), (method, 70)])
        sheet.text(row, 3, spec.unit, st["center"])
        target = ctx.targets.get(spec.code)
        if target is None:
            sheet.text(row, 4, "—", st["center"])
        else:
            sheet.number(row, 4, target, st["share"])
        row += 1

    for choice_list in ctx.form.spec.choice_lists:
        row += 1
        sheet.text(row, 0, "Справочник: информационные системы", st["bold"])
        row += 1
        first = row
        for item in choice_list.items:
            sheet.text(row, 1, item, st["cell"])
            row += 1
        name = f"LIST_{choice_list.id}"
        names[name] = f"{ref(sheet.name, first, 1)}:{ref(sheet.name, row - 1, 1).split('!')[1]}"
        list_names[choice_list.id] = name
