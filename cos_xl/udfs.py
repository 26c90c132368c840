"""The ``COS_*`` worksheet functions, declared for Excel with xlwings.

Each function is a plain Python function (callable and testable anywhere); the decorators only
attach xlwings' metadata, which exists on Windows only (on other systems they do nothing).
Excel reaches them through the VBA wrappers of ``macros/xlwings_udfs.bas``; the workbook shows
correct values without them too, from native formulas (``IFERROR(COS_E403(…), native)``).

Two ways to call an indicator function:
- ``=COS_E403()`` typed into any cell of a COS workbook reads the workbook's named inputs;
- ``=COS_E403(e403_go, e403_do, e403_spo, students_go, students_do, students_spo)``, as the
  template's own cells do, so that Excel recalculates when an input changes.
"""

from __future__ import annotations

from collections.abc import Callable

import xlwings as xw

from cos_xl import udf_core
from cos_xl.spec import load_form
from cos_xl.spec.models import Indicator
from cos_xl.vba.wrappers import vba_description

CATEGORY = "ЦОС (cos-xl)"
#: Parameter name xlwings fills with the calling cell (a Range); not an Excel argument.
CALLER = "caller"


class _XlwingsBook:
    """udf_core.BookReader over an xlwings Book (Windows, Excel)."""

    def __init__(self, caller):
        self.book = caller.sheet.book

    def name_value(self, name: str) -> object:
        return self.book.names[name].refers_to_range.value

    def cell_value(self, sheet: str, cell: str) -> object:
        return self.book.sheets[sheet][cell].value


def _book(caller) -> _XlwingsBook | None:
    return _XlwingsBook(caller) if caller is not None else None


def _indicator_udf(code: str) -> Callable[[Callable], Callable]:
    """Declare an indicator function: per-argument help from the form's labels, and the
    function wizard's description (its formula) in the VBA wrapper."""
    form = load_form()
    ind = form.indicator_by_code[code]

    def declare(function: Callable) -> Callable:
        for name in ind.arguments:
            function = xw.arg(name, doc=f"{form.label(name)} ({name})")(function)
        function = xw.func(category=CATEGORY)(function)
        return vba_description(wizard_description(ind.spec))(function)

    return declare


def wizard_description(indicator: Indicator) -> str:
    """What Excel's function wizard says an indicator function computes, in ASCII (the VBA
    source is ANSI): its code, unit and formula over the input ids, the arguments' names."""
    def operand(expression: str) -> str:
        return expression if expression.isidentifier() else f"({expression})"

    if indicator.kind == "share":
        unit = "percent"
        formula = f"100 * {operand(indicator.numerator)} / {operand(indicator.denominator or '')}"
    else:
        unit, formula = "persons", indicator.numerator
    return (f"Indicator {indicator.code}, {unit}: {formula}. Without arguments, reads the "
            "inputs of this workbook.")


@_indicator_udf("E4.03")
def COS_E403(e403_go=None, e403_do=None, e403_spo=None, students_go=None, students_do=None,
             students_spo=None, caller=None):
    """E4.03, %: доля обучающихся ОО, ДО и СПО, для которых формируется цифровой
    образовательный профиль и индивидуальный план обучения. Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.03", locals(), _book(caller))


@_indicator_udf("E4.04")
def COS_E404(e404_go=None, e404_do=None, e404_spo=None, students_go=None, students_do=None,
             students_spo=None, caller=None):
    """E4.04, %: доля обучающихся ОО, ДО и СПО, использующих ИС со входом через ЕПГУ или
    региональную ИС с централизованной авторизацией. Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.04", locals(), _book(caller))


@_indicator_udf("E4.05")
def COS_E405(e405_go=None, e405_do=None, e405_spo=None, orgs_go=None, orgs_do=None,
             orgs_spo=None, caller=None):
    """E4.05, %: доля организаций ОО, ДО и СПО, использующих государственные и иные ИС.
    Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.05", locals(), _book(caller))


@_indicator_udf("E4.07")
def COS_E407(e407_go=None, e407_spo=None, students_go=None, students_spo=None, caller=None):
    """E4.07, %: доля обучающихся ОО и СПО, использующих ИС для «горизонтального» обучения и
    неформального образования. Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.07", locals(), _book(caller))


@_indicator_udf("E4.08")
def COS_E408(e408_go=None, teachers_go=None, caller=None):
    """E4.08, %: доля педагогов ОО, прошедших повышение квалификации в форме электронного
    обучения. Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.08", locals(), _book(caller))


@_indicator_udf("E4.01.05")
def COS_E40105(e40105_go=None, e40105_do=None, orgs_go=None, orgs_do=None, caller=None):
    """E4.01.05, %: доля организаций ОО и ДО, на официальных сайтах которых размещён полный
    перечень информации (цель 100%). Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.01.05", locals(), _book(caller))


@_indicator_udf("E4.01.07")
def COS_E40107(e40107=None, caller=None):
    """E4.01.07, чел.: работники, прошедшие повышение квалификации в области современных
    технологий. Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.01.07", locals(), _book(caller))


@_indicator_udf("E4.01.11")
def COS_E40111(e40111_students=None, caller=None):
    """E4.01.11, чел.: обучающиеся с использованием оборудования, поставленного по субсидии
    «Внедрение Целевой модели ЦОС». Без аргументов берёт данные книги."""
    return udf_core.indicator("E4.01.11", locals(), _book(caller))


@vba_description("The checks the federal validator runs on this workbook, as a table: code, "
                 "severity, cell, message (explained warnings left out).")
@xw.func(category=CATEGORY)
@xw.ret(expand="table")
def COS_CHECK(caller=None):
    """Проверки книги — те же, что выполнит федеральный валидатор: таблица «код, вид, ячейка,
    сообщение» (пояснённые предупреждения не показываются)."""
    if caller is None:
        raise udf_core.UdfError("COS_CHECK работает только в книге cos-xl (no calling cell)")
    return udf_core.check_book(_book(caller))


@vba_description("The target of an indicator in this campaign, by its code (e.g. E4.01.05); "
                 "empty when none is set.")
@xw.func(category=CATEGORY)
@xw.arg("code", doc="Код показателя, например \"E4.01.05\"")
def COS_TARGET(code, caller=None):
    """Цель показателя в этой отчётной кампании (пусто, если цель не задана)."""
    return udf_core.target(code, _book(caller))


@vba_description("The version of cos-xl and the form of this workbook.")
@xw.func(category=CATEGORY)
def COS_VERSION(caller=None):
    """Версия cos-xl и форма книги."""
    return udf_core.version(_book(caller))


#: Every worksheet function, in the order of the VBA module.
UDFS = (COS_E403, COS_E404, COS_E405, COS_E407, COS_E408, COS_E40105, COS_E40107, COS_E40111,
        COS_CHECK, COS_TARGET, COS_VERSION)
