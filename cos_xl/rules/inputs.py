"""Checks of single input cells, each written twice side by side: in Python (validator, UDFs)
and as a native Excel formula (the workbook's check sheet). Tests prove the two agree.

Each check returns a finding code and a Russian message, or nothing when the value is fine.
"""

from __future__ import annotations

from dataclasses import dataclass

from cos_xl.spec import Input

OK = "OK"
DIGITS = "0123456789"
MIN_PHONE_DIGITS = 10
#: What a region is told to type instead of a number it typed as text (spaces between the
#: digit groups, a decimal comma, a letter): the same words in Python and in the workbook.
AS_TEXT_ADVICE = ("» — это текст, а не число. Введите только цифры, без пробелов между "
                  "разрядами, точек и запятых (например, 1200000 вместо «1 200 000» "
                  "или «1200000,0»)")

#: Finding codes of input checks, with their Russian titles.
CODES = {
    "value-missing": "Не заполнено обязательное поле",
    "value-as-text": "Число записано как текст",
    "value-negative": "Отрицательное число",
    "value-fraction": "Дробное число вместо целого",
    "email-invalid": "Неверный адрес электронной почты",
    "phone-invalid": "Неверный номер телефона",
}


@dataclass(frozen=True)
class InputProblem:
    code: str
    message: str


def fmt_number(value: float) -> str:
    """A number as a Russian reader writes it: ``12``, ``12,5``."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value)).replace(".", ",")


def _blank(item: Input, value: object) -> bool:
    # Excel: a count cell is blank only when empty (ISBLANK); a text cell when TRIM gives "".
    if item.kind == "count":
        return value is None or value == ""
    return value is None or (isinstance(value, str) and value.strip(" ") == "")


def check_input(item: Input, value: object, label: str) -> InputProblem | None:
    """Python side: the problem with one input value, if any."""
    if _blank(item, value):
        if item.required:
            return InputProblem("value-missing", f"{label}: не заполнено")
        return None
    if item.kind == "count":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return InputProblem("value-as-text", f"{label}: введено «{value}{AS_TEXT_ADVICE}")
        if value < 0:
            return InputProblem("value-negative", f"{label}: отрицательное число {fmt_number(value)}")
        if not float(value).is_integer():
            return InputProblem("value-fraction", f"{label}: дробное число {fmt_number(value)}")
        return None
    text = str(value)
    if item.kind == "email":
        at = text.find("@")
        if at < 1 or text.find(".", at) < 0 or " " in text or text.count("@") != 1:
            return InputProblem("email-invalid", f"{label}: неверный адрес «{text}»")
    if item.kind == "phone" and sum(ch in DIGITS for ch in text) < MIN_PHONE_DIGITS:
        return InputProblem("phone-invalid", f"{label}: в номере меньше {MIN_PHONE_DIGITS} цифр «{text}»")
    return None


def excel_string(text: str) -> str:
    """An Excel string literal."""
    return '"' + text.replace('"', '""') + '"'


def excel_input_check(item: Input, ref: str, label: str) -> tuple[str, str] | None:
    """Excel side: (code formula, message formula) for the check-sheet row of one input, both
    without the leading ``=``; they give ``""`` and ``"OK"`` when the value is fine."""
    lab = excel_string(label + ": ")
    blank = f"LEN(TRIM({ref}))=0"
    missing_code = '"value-missing"' if item.required else '""'
    missing_msg = f'{lab}&"не заполнено"' if item.required else f'"{OK}"'
    if item.kind == "count":
        code = (f'IF(ISBLANK({ref}),{missing_code},IF(ISNUMBER({ref}),IF({ref}<0,"value-negative",'
                f'IF({ref}<>INT({ref}),"value-fraction","")),"value-as-text"))')
        msg = (f'IF(ISBLANK({ref}),{missing_msg},IF(ISNUMBER({ref}),IF({ref}<0,{lab}&"отрицательное '
               f'число "&{ref},IF({ref}<>INT({ref}),{lab}&"дробное число "&{ref},"{OK}")),'
               f'{lab}&"введено «"&{ref}&{excel_string(AS_TEXT_ADVICE)}))')
        return code, msg
    if item.kind == "email":
        # Mirrors check_input: one "@" not first, a "." after it, no spaces.
        bad = (f'OR(IFERROR(FIND("@",{ref}),0)<2,ISERROR(FIND(".",{ref},IFERROR(FIND("@",{ref}),1))),'
               f'ISNUMBER(FIND(" ",{ref})),LEN({ref})-LEN(SUBSTITUTE({ref},"@",""))<>1)')
        code = f'IF({blank},{missing_code},IF({bad},"email-invalid",""))'
        msg = f'IF({blank},{missing_msg},IF({bad},{lab}&"неверный адрес «"&{ref}&"»","{OK}"))'
        return code, msg
    if item.kind == "phone":
        stripped = ref
        for digit in DIGITS:
            stripped = f'SUBSTITUTE({stripped},"{digit}","")'
        bad = f"LEN({ref})-LEN({stripped})<{MIN_PHONE_DIGITS}"
        code = f'IF({blank},{missing_code},IF({bad},"phone-invalid",""))'
        msg = (f'IF({blank},{missing_msg},IF({bad},{lab}&"в номере меньше {MIN_PHONE_DIGITS} '
               f'цифр «"&{ref}&"»","{OK}"))')
        return code, msg
    if not item.required:
        return None
    return f'IF({blank},"value-missing","")', f'IF({blank},{lab}&"не заполнено","{OK}")'
