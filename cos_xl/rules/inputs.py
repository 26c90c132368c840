"""Checks of single input cells, each written twice side by side: in Python (validator, UDFs)
and as a native Excel formula (the workbook's check sheet). Tests prove the two agree.

Each check returns a finding code and the values its message shows, or nothing when the value is
fine. The messages are the templates of :mod:`cos_xl.findings_catalogue`, filled in Python and
compiled to string concatenation in Excel, so both sides say the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cos_xl.findings_catalogue import CODES, message
from cos_xl.spec import Input

OK = "OK"
DIGITS = "0123456789"
MIN_PHONE_DIGITS = 10
#: Where the cell's value goes in a message compiled to Excel.
_CELL = "\x00"


@dataclass(frozen=True)
class InputProblem:
    """A finding code of :mod:`cos_xl.findings_catalogue` and the values of its message:
    ``label`` (the input's label) and ``shown`` (the value as the message shows it)."""

    code: str
    values: Mapping[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return message(self.code, **self.values)


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
            return InputProblem("value-missing", {"label": label})
        return None
    if item.kind == "count":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return InputProblem("value-as-text", {"label": label, "shown": value})
        if value < 0:
            return InputProblem("value-negative", {"label": label, "shown": fmt_number(value)})
        if not float(value).is_integer():
            return InputProblem("value-fraction", {"label": label, "shown": fmt_number(value)})
        return None
    text = str(value)
    if item.kind == "email":
        at = text.find("@")
        if at < 1 or text.find(".", at) < 0 or " " in text or text.count("@") != 1:
            return InputProblem("email-invalid", {"label": label, "shown": text})
    if item.kind == "phone" and sum(ch in DIGITS for ch in text) < MIN_PHONE_DIGITS:
        return InputProblem("phone-invalid",
                            {"label": label, "shown": text, "min_digits": MIN_PHONE_DIGITS})
    return None


def excel_string(text: str) -> str:
    """An Excel string literal."""
    return '"' + text.replace('"', '""') + '"'


def excel_message(code: str, label: str, ref: str) -> str:
    """Excel side of a message: the template of ``code`` as a string concatenation, the label
    as a literal and ``{shown}`` as the cell ``ref`` (``"Label: "&"дробное число "&E12``)."""
    template = CODES[code].message
    prefix = "{label}: "
    if not template.startswith(prefix):
        raise ValueError(f"{code}: an input check's message starts with {prefix!r}")
    pieces = template[len(prefix):].format(shown=_CELL, min_digits=MIN_PHONE_DIGITS).split(_CELL)
    parts = [excel_string(label + ": ")]
    for index, piece in enumerate(pieces):
        if index:
            parts.append(ref)
        if piece:
            parts.append(excel_string(piece))
    return "&".join(parts)


def excel_input_check(item: Input, ref: str, label: str) -> tuple[str, str] | None:
    """Excel side: (code formula, message formula) for the check-sheet row of one input, both
    without the leading ``=``; they give ``""`` and ``"OK"`` when the value is fine."""
    blank = f"LEN(TRIM({ref}))=0"
    missing_code = '"value-missing"' if item.required else '""'
    missing_msg = excel_message("value-missing", label, ref) if item.required else f'"{OK}"'
    if item.kind == "count":
        code = (f'IF(ISBLANK({ref}),{missing_code},IF(ISNUMBER({ref}),IF({ref}<0,"value-negative",'
                f'IF({ref}<>INT({ref}),"value-fraction","")),"value-as-text"))')
        msg = (f'IF(ISBLANK({ref}),{missing_msg},IF(ISNUMBER({ref}),IF({ref}<0,'
               f'{excel_message("value-negative", label, ref)},IF({ref}<>INT({ref}),'
               f'{excel_message("value-fraction", label, ref)},"{OK}")),'
               f'{excel_message("value-as-text", label, ref)}))')
        return code, msg
    if item.kind == "email":
        # Mirrors check_input: one "@" not first, a "." after it, no spaces.
        bad = (f'OR(IFERROR(FIND("@",{ref}),0)<2,ISERROR(FIND(".",{ref},IFERROR(FIND("@",{ref}),1))),'
               f'ISNUMBER(FIND(" ",{ref})),LEN({ref})-LEN(SUBSTITUTE({ref},"@",""))<>1)')
        code = f'IF({blank},{missing_code},IF({bad},"email-invalid",""))'
        msg = (f'IF({blank},{missing_msg},IF({bad},{excel_message("email-invalid", label, ref)},'
               f'"{OK}"))')
        return code, msg
    if item.kind == "phone":
        stripped = ref
        for digit in DIGITS:
            stripped = f'SUBSTITUTE({stripped},"{digit}","")'
        bad = f"LEN({ref})-LEN({stripped})<{MIN_PHONE_DIGITS}"
        code = f'IF({blank},{missing_code},IF({bad},"phone-invalid",""))'
        msg = (f'IF({blank},{missing_msg},IF({bad},{excel_message("phone-invalid", label, ref)},'
               f'"{OK}"))')
        return code, msg
    if not item.required:
        return None
    return f'IF({blank},"value-missing","")', f'IF({blank},{missing_msg},"{OK}")'
