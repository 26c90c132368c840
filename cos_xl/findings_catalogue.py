"""Every finding the package can give, declared once: code, stage, severity, Russian title and
message template (as frictionless declares its error classes).

A check names a code and gives the values; this module fills in the severity and the wording::

    finding("sheet-unprotected", sheet="Данные")
    # Finding("sheet-unprotected", "error", "С листа «Данные» снята защита.", sheet="Данные")

A template is a :meth:`str.format` string over the values a check passes and the finding's own
fields (``name``, ``sheet``, ``cell``, ``value``). A code that is worded differently in
different situations (a ZIP archive broken in several ways) declares each wording as a named
variant. The form's rules (``templates/*.toml``) carry their own severity and messages as data;
:func:`rule_finding` makes their findings, and declares the one severity that changes: a
warning the region explained in the workbook is reported as information (:data:`EXPLAINED`).

The README's table of codes is generated from :data:`CODES` (:mod:`cos_xl.validate.catalogue`
adds the form's rules), so the documentation cannot drift from what the code says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cos_xl.findings import Finding, Severity

if TYPE_CHECKING:
    from cos_xl.spec import RuleInstance

Stage = Literal["файл", "подлинность", "структура", "значения", "приём"]


@dataclass(frozen=True)
class Code:
    """What one finding code is: where it is found, how bad it is and how it is worded."""

    stage: Stage
    severity: Severity
    title: str
    message: str  # a str.format template
    variants: Mapping[str, str] = field(default_factory=dict)  # other wordings, by name

    def template(self, variant: str | None = None) -> str:
        return self.message if variant is None else self.variants[variant]


# ---------------------------------------------------------------------------------------------
# wording shared by the messages of the file stage

#: How to send a file again, after a message about a broken or unsafe file.
RESEND = ("Откройте полученный шаблон в Microsoft Excel (или другом табличном редакторе), "
          "заполните его и сохраните в том же формате, в котором он был разослан "
          "(.xlsm или .xlsx), затем отправьте файл снова.")
#: The opening of a message about a file refused as unsafe.
REJECTED = "Файл не обрабатывается из соображений безопасности. "
#: For a file saved in another format: how to save it as the workbook it should be.
SAVE_AS = ("Откройте полученный шаблон (или этот файл) и сохраните его как «Книга Excel "
           "(.xlsx/.xlsm)»: в Excel — «Файл → Сохранить как», тип «Книга Excel с поддержкой "
           "макросов (*.xlsm)» или «Книга Excel (*.xlsx)»; в LibreOffice — «Файл → Сохранить "
           "как», тип «Excel 2007–365»; затем отправьте файл снова.")
#: What a region is told to type instead of a number it typed as text (spaces between the
#: digit groups, a decimal comma, a letter): the same words in Python and in the workbook.
AS_TEXT_ADVICE = ("» — это текст, а не число. Введите только цифры, без пробелов между "
                  "разрядами, точек и запятых (например, 1200000 вместо «1 200 000» "
                  "или «1200000,0»)")


def _corrupt(detail: str) -> str:
    return "Архив книги повреждён: " + detail + ". Возможно, файл обрезан при передаче. " + RESEND


def _file(severity: Severity, title: str, message: str, **variants: str) -> Code:
    return Code("файл", severity, title, message, variants)


# ---------------------------------------------------------------------------------------------
# the registry

CODES: dict[str, Code] = {
    # -- файл: cos_xl.validate.safety, before any spreadsheet library reads the file ----------
    "file-unreadable": _file(
        "error", "Файл не удалось прочитать",
        "Файл «{file}» не удалось прочитать: {detail}.",
        not_regular="Файл «{file}» не удалось прочитать: это не обычный файл."),
    "file-empty": _file(
        "error", "Файл пустой",
        "Файл пустой (0 байт): вероятно, он не был сохранён или вложение повредилось при "
        "отправке. " + RESEND),
    "file-too-large": _file(
        "error", "Файл слишком большой",
        REJECTED + "Файл занимает {size}, допускается не более {limit} (заполненный шаблон — "
        "меньше 100 КБ). Не вставляйте в шаблон изображения и другие файлы. " + RESEND),
    "file-not-zip": _file(
        "error", "Файл не является книгой Excel",
        "Файл не является книгой Excel (формат не распознан; книга .xlsx/.xlsm — это ZIP-архив, "
        "начинающийся с «PK»). " + RESEND,
        binary="Файл не является книгой Excel (похоже на: {what}; книга .xlsx/.xlsm — это "
        "ZIP-архив, начинающийся с «PK»). " + RESEND,
        text="Файл — {what}, а не книга Excel. " + RESEND,
        ole="Файл — {what}, а не книга Excel (потоки: {streams}). " + RESEND,
        ole_broken="Файл — повреждённый составной документ OLE (формат Office 97–2003, "
        "{detail}); это не книга Excel, которую можно проверить. " + RESEND),
    "file-encrypted": _file(
        "error", "Книга защищена паролем на открытие",
        "Книга зашифрована паролем на открытие, поэтому её невозможно проверить. Снимите "
        "пароль: в Excel «Файл → Сведения → Защита книги → Зашифровать с использованием "
        "пароля», очистите поле пароля, нажмите «ОК», сохраните книгу и отправьте её снова. "
        "Защита листов шаблона паролем на открытие не является — её снимать не нужно."),
    "file-legacy-xls": _file(
        "error", "Книга в старом формате Excel 97–2003 (.xls)",
        "Книга сохранена в старом формате Excel 97–2003 (.xls), в котором теряются защита, "
        "проверки и подпись шаблона. " + SAVE_AS),
    "file-ods": _file(
        "error", "Таблица OpenDocument (.ods) вместо книги Excel",
        "Файл сохранён как таблица OpenDocument (.ods, формат LibreOffice Calc, Р7-Офис, "
        "МойОфис), а не книга Excel; в этом формате теряются защита, проверки и подпись "
        "шаблона. " + SAVE_AS),
    "file-csv": _file(
        "error", "Текстовый файл (CSV) вместо книги Excel",
        "Файл сохранён как текст с разделителями (CSV), а не книга Excel: в нём нет листов, "
        "проверок и подписи шаблона. " + SAVE_AS),
    "file-html": _file(
        "error", "Веб-страница (HTML) вместо книги Excel",
        "Файл — веб-страница HTML (например, сохранённая из Excel как «Веб-страница» или "
        "выгруженная из другой системы с расширением .xls), а не книга Excel. " + SAVE_AS),
    "file-extension-mismatch": _file(
        "warning", "Расширение имени файла не соответствует содержимому",
        "Имя файла «{file}» оканчивается на {extension}, а по содержимому это {content}. Не "
        "переименовывайте файлы вручную: сохраните книгу в Excel в нужном формате."),
    "zip-corrupt": _file(
        "error", "Архив книги повреждён или обрезан",
        _corrupt("часть «{part}» не распаковывается ({detail})"),
        no_directory=_corrupt("не найдено оглавление архива (центральный каталог) в конце файла"),
        directory_moved=_corrupt("оглавление архива указывает на смещение {offset}, а находится "
                                 "в другом месте (перед архивом есть посторонние данные?)"),
        directory_unreadable=_corrupt("оглавление архива не читается ({detail})"),
        local_header=_corrupt("часть «{part}»: {detail}"),
        crc=_corrupt("контрольная сумма части «{part}» не совпадает")),
    "zip-too-many-entries": _file(
        "error", "Слишком много частей в архиве книги",
        REJECTED + "В архиве книги {entries} частей, допускается не более {limit} (в шаблоне "
        "16–17 частей). " + RESEND,
        directory=REJECTED + "В архиве книги {entries} частей, оглавление {directory}; "
        "допускается не более {limit} частей и {directory_limit} оглавления (в шаблоне 16–17 "
        "частей). " + RESEND),
    "zip-uncompressed-too-large": _file(
        "error", "Слишком большой объём книги после распаковки",
        REJECTED + "После распаковки книга заняла бы {size}, допускается не более {limit} "
        "(заполненный шаблон занимает около 200 КБ). " + RESEND),
    "zip-bomb": _file(
        "error", "Подозрение на ZIP-бомбу: чрезмерная степень сжатия",
        REJECTED + "Часть «{part}» сжата в {ratio:.0f} раз ({packed} → {unpacked}); "
        "допускается не более {max_ratio:g}:1 для частей больше {min_size} (в шаблоне не более "
        "9:1). " + RESEND),
    "zip-size-mismatch": _file(
        "error", "Размер части архива не совпадает с заявленным",
        "Часть «{part}» распаковывается в {size}, а в архиве заявлено {declared}: архив "
        "повреждён или подделан. " + RESEND,
        larger=REJECTED + "Часть «{part}» распаковывается в больший объём, чем заявлено в "
        "архиве ({declared}): заголовок архива подделан (приём ZIP-бомб). " + RESEND),
    "zip-overlapping-entries": _file(
        "error", "Части архива перекрываются",
        REJECTED + "Данные части «{part}» перекрываются с другой частью архива или его "
        "оглавлением (приём ZIP-бомб и подмены содержимого). " + RESEND),
    "zip-hidden-data": _file(
        "warning", "Посторонние данные в архиве книги",
        "Между частями архива книги есть {value} байт посторонних данных, не принадлежащих ни "
        "одной части. " + RESEND,
        after_end="После конца архива книги в файле есть ещё {value} байт посторонних данных. "
        + RESEND),
    "zip-path-traversal": _file(
        "error", "Недопустимый путь части архива (выход за пределы папки)",
        REJECTED + "Часть архива «{part}» имеет абсолютный путь, выходит за пределы папки "
        "(«..») или содержит нулевой символ: так устроены атаки при распаковке. " + RESEND),
    "zip-duplicate-entry": _file(
        "error", "Повторяющееся имя части архива",
        REJECTED + "Часть «{part}» встречается в архиве книги больше одного раза (имена частей "
        "не различаются по регистру): разные программы прочли бы разное содержимое. " + RESEND),
    "zip-encrypted-entry": _file(
        "error", "Зашифрованная часть архива",
        "Часть архива «{part}» зашифрована (флаг шифрования ZIP), проверить её невозможно. "
        "Книга Excel не шифрует части архива; если файл упаковывали архиватором с паролем — "
        "отправьте сам файл книги. " + RESEND),
    "zip-unsupported-compression": _file(
        "error", "Неподдерживаемый метод сжатия части архива",
        "Часть архива «{part}» сжата методом {method}, который не используют программы Office "
        "(допустимы 0 — без сжатия и 8 — deflate). " + RESEND),
    "zip-nested-archive": _file(
        "error", "Вложенный архив внутри книги",
        REJECTED + "Внутри книги находится вложенный архив или документ «{part}». В шаблон "
        "нельзя вставлять файлы и объекты. " + RESEND),
    "zip-executable": _file(
        "error", "Исполняемый файл или сценарий внутри книги",
        REJECTED + "Внутри книги находится исполняемый файл или сценарий «{part}». " + RESEND),
    "ooxml-embedded-object": _file(
        "warning", "Внедрённый объект OLE в книге",
        "В книгу внедрён объект «{part}» (OLE, ActiveX или вложенный файл); при проверке он не "
        "открывается и не учитывается. Удалите внедрённые объекты из шаблона и отправьте файл "
        "снова."),
    "ooxml-parts-missing": _file(
        "error", "Нет обязательных частей книги Excel",
        "В книге нет обязательных частей: {missing}; Excel не откроет такой файл. " + RESEND,
        other_package="Файл — {what}, а не книга Excel: нет обязательных частей {missing}. "
        + RESEND,
        opendocument="Файл — документ OpenDocument ({what}), а не книга Excel. " + RESEND),
    "xml-doctype": _file(
        "error", "Объявление DOCTYPE/ENTITY в XML (XXE, «billion laughs»)",
        REJECTED + "XML-часть «{part}» содержит объявление <!DOCTYPE> или <!ENTITY>: так "
        "устроены атаки через сущности XML (внешние сущности XXE, «billion laughs»). Книги "
        "Excel таких объявлений не содержат. " + RESEND),
    "xml-not-utf8": _file(
        "error", "XML-часть книги не в кодировке UTF-8",
        REJECTED + "XML-часть «{part}» записана в кодировке {encoding}; книги Excel всегда "
        "записываются в UTF-8, а другая кодировка позволяет скрыть опасные объявления от "
        "проверки. " + RESEND),
    "xml-too-large": _file(
        "error", "Слишком большая XML-часть книги",
        REJECTED + "XML-часть «{part}» занимает {size} после распаковки, допускается не более "
        "{limit} (самая большая часть шаблона — около 65 КБ). " + RESEND),

    # -- подлинность: cos_xl.validate.run, the manifest and its signature ----------------------
    "workbook-unreadable": Code(
        "подлинность", "error", "Книгу не удалось прочитать",
        "Книгу не удалось прочитать: файл повреждён или записан не офисной программой "
        "({detail}). Откройте её в Excel или LibreOffice, сохраните заново как «Книга Excel "
        "(.xlsm/.xlsx)» и отправьте снова."),
    "cell-duplicated": Code(
        "подлинность", "error", "Ячейка записана в файле дважды",
        "{sheet}!{cell}: ячейка записана в файле дважды, и разные программы покажут разное. "
        "Такой файл не получается при обычном сохранении: откройте книгу в Excel или "
        "LibreOffice, сохраните её заново и отправьте снова."),
    "manifest-missing": Code(
        "подлинность", "error", "Нет манифеста шаблона: файл не из этой рассылки",
        "В книге нет манифеста шаблона (скрытый лист _manifest): это не файл из рассылки или "
        "он пересоздан. Заполните полученный шаблон."),
    "manifest-signature-invalid": Code(
        "подлинность", "error",
        "Подпись манифеста неверна: шаблон подделан или подписан другим ключом",
        "Подпись манифеста не совпадает: манифест изменён или шаблон подписан другим ключом."),
    "manifest-dev-key": Code(
        "подлинность", "warning", "Шаблон подписан ключом разработчика",
        "Шаблон подписан ключом разработчика: не для настоящего отчёта."),
    "template-unknown": Code(
        "подлинность", "error", "Шаблон неизвестной формы или версии", "{detail}"),

    # -- структура: cos_xl.validate.integrity, the locked structure against the one issued ----
    "sheets-changed": Code(
        "структура", "error", "Листы книги переименованы, удалены или добавлены",
        "Листы книги изменены: ожидались {expected}; в файле {found}. Верните файл в исходном "
        "виде (без переименования, удаления и добавления листов)."),
    "sheet-unprotected": Code(
        "структура", "error", "С листа снята защита", "С листа «{sheet}» снята защита."),
    "workbook-unprotected": Code(
        "структура", "warning", "Снята защита структуры книги",
        "Снята защита структуры книги (листы можно переименовать)."),
    "label-changed": Code(
        "структура", "error", "Изменён защищённый текст или значение",
        "{sheet}!{cell}: защищённое содержимое изменено: «{found}» вместо «{wanted}» (вставка "
        "или удаление строк тоже сдвигает ячейки)."),
    "formula-replaced": Code(
        "структура", "error", "Формула заменена значением",
        "{sheet}!{cell}: формула заменена значением «{shown}»."),
    "formula-changed": Code(
        "структура", "error", "Формула изменена", "{sheet}!{cell}: формула изменена: «{value}»."),
    "formula-in-input": Code(
        "структура", "error", "В ячейку ввода введена формула",
        "{sheet}!{cell}: вместо числа введена формула «{value}»; введите значение."),
    "input-number-format": Code(
        "структура", "error", "У ячейки ввода формат, показывающий другое число",
        "{sheet}!{cell}: у ячейки ввода изменён формат числа («{value}»): с ним ячейка может "
        "показывать не то число, что в ней записано. Верните формат ячейки «Общий» или "
        "числовой."),
    "name-changed": Code(
        "структура", "error", "Изменено или удалено имя (defined name)",
        "Имя {name} должно указывать на {wanted}, в файле — {found}."),
    "validation-removed": Code(
        "структура", "warning", "Удалена проверка данных ячейки",
        "{sheet}!{cell}: удалена проверка данных."),
    "vba-changed": Code(
        "структура", "error", "Изменён или заменён проект VBA",
        "Проект VBA книги изменён или удалён (модули: {modules}): верните исходный файл."),
    "vba-added": Code(
        "структура", "error", "В книгу без макросов добавлен проект VBA",
        "В книгу без макросов добавлен проект VBA: верните исходный файл."),
    "vba-stomped": Code(
        "структура", "error", "Скомпилированный код модуля VBA (p-code) не совпадает с его текстом",
        "Модуль VBA {value}: скомпилированный код (p-code) не совпадает с текстом модуля — в нём "
        "есть {names}, чего в тексте нет (подмена кода, VBA stomping): верните исходный файл.",
        {"many": "Модуль VBA {value}: скомпилированный код (p-code) не совпадает с текстом модуля "
                 "— в нём есть {names} и др., чего в тексте нет (подмена кода, VBA stomping): "
                 "верните исходный файл."}),
    "annotation-sheet-changed": Code(
        "структура", "error",
        "Лист «Замечания» изменён после проверки или добавлен не проверяющим",
        "Лист «{sheet}» изменён после проверки (или добавлен в книгу не при проверке): удалите "
        "лист «{sheet}» и отправьте файл снова; остальные листы при этом не меняйте."),
    "annotation-sheet-kept": Code(
        "структура", "info", "Лист «Замечания» предыдущей проверки не учитывается",
        "Лист «{sheet}» с замечаниями предыдущей проверки не учитывается: исправленная копия с "
        "замечаниями принимается так же, как исходный файл."),
    # the sheet «Свод по МО» of a region's return rolled up from its units (cos-xl rollup)
    "rollup-sheet": Code(
        "структура", "info", "Отчёт собран из отчётов МО/организаций",
        "Отчёт субъекта собран из отчётов МО/организаций (лист «{sheet}»): в суммы вошли "
        "принятые отчёты {counted} из {total}."),
    "rollup-units-missing": Code(
        "структура", "warning", "Свод по МО неполный",
        "Свод по МО неполный: нет принятых отчётов {missing} из {total} МО/организаций "
        "({units}) — значения субъекта могут быть занижены."),
    "rollup-total-differs": Code(
        "структура", "warning", "Значение не равно итогу свода по МО",
        "{label}: на листе «{sheet}» {found}, а итог листа «Свод по МО» — {expected}: значение "
        "изменено после сбора; соберите свод заново или поясните расхождение."),
    "rollup-sheet-invalid": Code(
        "структура", "error", "Лист «Свод по МО» изменён",
        "Лист «{sheet}» изменён после сбора ({detail}): соберите свод заново (cos-xl rollup) "
        "и отправьте файл снова."),
    "macros-removed": Code(
        "структура", "info", "Макросы удалены: показатели считаются встроенными формулами",
        "Макросы удалены (файл сохранён без проекта VBA, например как .xlsx): показатели "
        "считаются встроенными формулами, это допустимо."),

    # -- значения: cos_xl.rules.inputs, one input cell; the workbook's check sheet shows the
    # same messages, compiled to Excel formulas from these templates ({label}: the input's
    # label, {shown}: the value as typed; see cos_xl.rules.inputs.excel_input_check)
    "value-missing": Code(
        "значения", "error", "Не заполнено обязательное поле", "{label}: не заполнено"),
    "value-as-text": Code(
        "значения", "error", "Число записано как текст",
        "{label}: введено «{shown}" + AS_TEXT_ADVICE),
    "value-negative": Code(
        "значения", "error", "Отрицательное число", "{label}: отрицательное число {shown}"),
    "value-fraction": Code(
        "значения", "error", "Дробное число вместо целого", "{label}: дробное число {shown}"),
    "email-invalid": Code(
        "значения", "error", "Неверный адрес электронной почты",
        "{label}: неверный адрес «{shown}»"),
    "phone-invalid": Code(
        "значения", "error", "Неверный номер телефона",
        "{label}: в номере меньше {min_digits} цифр «{shown}»"),
    # -- значения: cos_xl.validate.values, indicator values saved in the file
    "indicator-cache-stale": Code(
        "значения", "warning", "Значение показателя в файле не совпадает с расчётом",
        "{label}: в файле {found}, по данным файла должно быть {wanted}: книга не пересчитана "
        "или значение изменено; пересчитайте книгу (Ctrl+Alt+F9) и сохраните."),
    "indicators-not-calculated": Code(
        "значения", "info", "Книга сохранена без рассчитанных значений формул",
        "В файле не сохранены рассчитанные значения показателей ({codes}): так сохраняют книгу "
        "программы, которые не пересчитывают формулы (например, openpyxl). Показатели "
        "рассчитаны при проверке по введённым данным; чтобы видеть их в файле, откройте его в "
        "Excel или LibreOffice и сохраните."),

    # -- приём: cos_xl.ledger.intake -----------------------------------------------------------
    "region-not-issued": Code(
        "приём", "error", "Субъекту не выдавался шаблон за этот период",
        "Субъекту {region} шаблон за {period} не выдавался (его нет в кампании периода, "
        "записанной в реестре): файл не учитывается. Если шаблон был выдан, зарегистрируйте "
        "его: cos-xl campaign register --regions {region} …"),
    "unit-not-issued": Code(
        "приём", "error", "МО/организации не выдавалась книга за этот период",
        "МО/организации {unit} субъекта {region} книга за {period} не выдавалась (её нет в "
        "списке МО/организаций, записанном в реестре): файл не учитывается. Если книга была "
        "выдана, добавьте МО/организацию в список и запишите его: cos-xl generate --period "
        "{period} --region {region} --units ФАЙЛ.csv --out ПАПКА --db …"),
}

#: The stages in the order a file goes through them.
STAGES: tuple[Stage, ...] = ("файл", "подлинность", "структура", "значения", "приём")

#: A form rule's severity once the region has explained the finding in the workbook (the
#: explanation column of the check sheet): an explained warning is information.
EXPLAINED: Mapping[Severity, Severity] = {"warning": "info"}
#: What an explained finding adds to the rule's message.
EXPLANATION = "{message} Пояснение региона: «{explanation}»."
#: The finding that stands for the rest when a code is reported only so many times.
MORE = "… и другие такие же расхождения (показаны первые {shown})."


def codes_of(stage: Stage) -> dict[str, tuple[Severity, str]]:
    """Code -> (severity, title) of one stage, in the registry's order."""
    return {code: (c.severity, c.title) for code, c in CODES.items() if c.stage == stage}


def severity_of(code: str) -> Severity:
    return CODES[code].severity


def message(code: str, variant: str | None = None, /, **values: object) -> str:
    """The message of ``code`` (or of its named wording ``variant``) with ``values`` filled in."""
    return CODES[code].template(variant).format_map(values)


def finding(code: str, variant: str | None = None, /, *, name: str | None = None,
            sheet: str | None = None, cell: str | None = None, value: object = None,
            **values: object) -> Finding:
    """The finding ``code`` with its declared severity and its message filled in from
    ``values`` and the finding's own fields (those given: a template that shows a field
    nobody gave raises KeyError rather than say «None»)."""
    given = {key: item for key, item in (("name", name), ("sheet", sheet), ("cell", cell),
                                          ("value", value)) if item is not None}
    text = message(code, variant, **given, **values)
    return Finding(code, CODES[code].severity, text, name=name, sheet=sheet, cell=cell,
                   value=value)


def rule_finding(rule: RuleInstance, text: str, explanation: str | None = None, *,
                 sheet: str | None = None, cell: str | None = None,
                 value: object = None) -> Finding:
    """The finding of a failed form rule, whose code, severity and message ``text`` are the
    form's data; with the region's ``explanation``, a warning becomes :data:`EXPLAINED` and
    the message quotes the explanation."""
    severity = rule.severity
    if explanation and severity in EXPLAINED:
        severity = EXPLAINED[severity]
        text = EXPLANATION.format(message=text, explanation=explanation)
    return Finding(rule.code, severity, text, name=rule.target, sheet=sheet, cell=cell,
                   value=value, rule_id=rule.id)


def more_like(found: Finding, shown: int) -> Finding:
    """The one finding that stands for the findings of ``found``'s code beyond the first
    ``shown``: same code and severity, no position."""
    return Finding(found.code, found.severity, MORE.format(shown=shown))
