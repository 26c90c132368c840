"""to_excel(): a native Excel formula (without the leading "=") meaning exactly the expression.

Normalisations, each making Excel, LibreOffice, pycel and formulas compute what compile_python
computes (checked on LibreOffice 7 headless, pycel 1.0b30 and formulas 1.3 by
tests/test_expr.py; the Excel behaviour is Microsoft's documented one):

* ``a == b`` -> ``a=b``, ``!=`` -> ``<>``, ``and``/``or``/``not`` -> AND()/OR()/NOT().
* Logical contexts (IF condition, AND/OR/NOT operands) that are not logical values become
  ``x<>0``: AND/OR *ignore* an empty cell given directly (AND(empty, TRUE) = TRUE,
  AND(empty) = #VALUE!), while our rule is "empty counts as 0".
* A comparison between a logical value and a number coerces the logical value with ``+0``:
  Excel and pycel rank TRUE above every number (TRUE=1 is FALSE), LibreOffice treats TRUE as
  1; with ``+0`` all agree on Python's 1/0. ``--x`` is avoided: ``formulas`` evaluates
  ``--(1>0)`` to TRUE, not 1.
* SUM/MIN/MAX: a bare name is passed as a reference (an empty cell is ignored, as in
  compile_python); an argument that is a logical value, or an IF that may yield an empty cell,
  is emitted as ``x+0``: SUM(1>0,1) is 2 in LibreOffice (and Excel) but 1 in pycel and
  formulas; MIN(IF(TRUE,A1,1),7) with A1 empty is 7 in LibreOffice and pycel, 0 in formulas.
* BLANK(x) -> ``x=""``: TRUE for an empty cell and for a formula returning "", FALSE for 0 and
  for text. ISBLANK is not used: it is FALSE for a formula returning "". ``LEN(x)=0`` gives the
  same results; ``x=""`` is shorter and does not format a number as text first.
* Parentheses: by precedence, always around a right operand of the same precedence (floating
  point ``a+(b+c)`` is not ``a+b+c``), around a negated non-atom (no ``--``) and around
  comparisons inside comparisons (Excel's comparison operators are not chained as in Python).
* Numbers: no exponent notation (1e-05 -> 0.00001), integral values without ".0".
* Default ``ref`` (defined names): rejects names Excel would read as a cell (``e40107``), as
  R1C1 (``c``, ``r``, ``R2C``) or as TRUE/FALSE, and names differing only in case. A formula
  longer than Excel's 8192 characters is an ExprError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from xlsxwriter.utility import xl_cell_to_rowcol

from cos_xl.errors import ExprError
from cos_xl.expr.nodes import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Expr,
    Kind,
    Name,
    Not,
    Num,
    Unary,
    kind,
    may_be_empty,
    names,
)

CMP, ADD, MUL, NEG, ATOM = 1, 2, 3, 4, 5
EXCEL_MAX_FORMULA = 8192  # Excel's limit on the length of a formula

_XL_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "=", "!=": "<>"}
_A1_RE = re.compile(r"([A-Za-z]{1,3})([0-9]+)\Z")
_R1C1_RE = re.compile(r"(?:[Rr][0-9]*)?(?:[Cc][0-9]*)?\Z")


def format_number(value: int | float) -> str:
    """An Excel numeric literal: no exponent, integral floats without '.0'."""
    if isinstance(value, bool):
        raise TypeError("a logical value is not a number literal")
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check_defined_name(name: str) -> None:
    m = _A1_RE.match(name)
    if m and xl_cell_to_rowcol(name.upper())[1] < 16384 and 1 <= int(m.group(2)) <= 1048576:
        problem = f"совпадает со ссылкой на ячейку {name.upper()}"
    elif name and _R1C1_RE.match(name):
        problem = "совпадает со ссылкой в стиле R1C1"
    elif name.upper() in ("TRUE", "FALSE"):
        problem = "совпадает с логической константой"
    else:
        return
    raise ExprError(
        f"Имя {name!r} нельзя использовать как имя диапазона Excel: {problem}; передайте "
        f"to_excel(..., ref=...) (not a valid Excel defined name)"
    )


def _default_ref(expr: Expr) -> Callable[[str], str]:
    seen: dict[str, str] = {}
    for n in sorted(names(expr)):
        _check_defined_name(n)
        other = seen.setdefault(n.upper(), n)
        if other != n:
            raise ExprError(
                f"Имена {other!r} и {n!r} различаются только регистром, а имена Excel к "
                f"регистру не чувствительны (Excel defined names are case-insensitive)"
            )
    return lambda n: n


def to_excel(expr: Expr, ref: Callable[[str], str] | None = None) -> str:
    """A native Excel formula for ``expr``, without the leading '='.

    ``ref(name)`` gives the reference of an input (e.g. ``"'Форма 1'!$D$7"``); by default the
    name itself, used as a workbook defined name (checked: it must not look like a cell
    reference such as ``e40107``).
    """
    formula = _Emitter(ref or _default_ref(expr)).emit(expr)[0]
    if len(formula) > EXCEL_MAX_FORMULA:
        raise ExprError(
            f"Формула Excel длиннее {EXCEL_MAX_FORMULA} символов ({len(formula)}): {formula[:80]}… "
            f"(Excel formula too long)"
        )
    return formula


class _Emitter:
    def __init__(self, ref: Callable[[str], str]) -> None:
        self.ref = ref

    def emit(self, e: Expr) -> tuple[str, int]:
        if isinstance(e, Num):
            return format_number(e.value), (NEG if e.value < 0 else ATOM)
        if isinstance(e, Name):
            return self.ref(e.id), ATOM
        if isinstance(e, Unary):
            t, p = self.emit(e.operand)
            return ("-" + (t if p == ATOM else f"({t})")), NEG
        if isinstance(e, Binary):
            prec = ADD if e.op in "+-" else MUL
            lt, lp = self.emit(e.left)
            rt, rp = self.emit(e.right)
            lt = lt if lp >= prec else f"({lt})"
            # right side: same precedence or a negation gets parentheses ("a-(b-c)", "a-(-b)")
            rt = rt if rp > prec and rp != NEG else f"({rt})"
            return f"{lt}{e.op}{rt}", prec
        if isinstance(e, Compare):
            lk, rk = kind(e.left), kind(e.right)
            if lk is rk and lk is not Kind.ANY:
                (lt, lp), (rt, rp) = self.emit(e.left), self.emit(e.right)
            else:
                (lt, lp), (rt, rp) = self.number(e.left), self.number(e.right)
            # A cell holding text compares as "greater than any number" in Excel; with +0 it
            # gives #VALUE!, as the Python side raises EvalError for text. Empty stays 0.
            if isinstance(e.left, Name):
                lt, lp = f"{lt}+0", ADD
            if isinstance(e.right, Name):
                rt, rp = f"{rt}+0", ADD
            lt = lt if lp > CMP else f"({lt})"
            rt = rt if rp > CMP else f"({rt})"
            return f"{lt}{_XL_CMP[e.op]}{rt}", CMP
        if isinstance(e, BoolOp):
            fn = "AND" if e.op == "and" else "OR"
            return f"{fn}({','.join(self.test(v) for v in e.values)})", ATOM
        if isinstance(e, Not):
            return f"NOT({self.test(e.operand)})", ATOM
        if isinstance(e, Call):
            return self.call(e), (CMP if e.func == "BLANK" else ATOM)
        raise TypeError(f"not an expression node: {e!r}")

    def number(self, e: Expr) -> tuple[str, int]:
        """``e`` as a number: logical values (and an IF of mixed kinds) get ``+0``."""
        t, p = self.emit(e)
        if kind(e) is Kind.NUM:
            return t, p
        return f"{t if p >= ADD else f'({t})'}+0", ADD

    def test(self, e: Expr) -> str:
        """``e`` as a logical value: a number is true when non-zero."""
        if kind(e) is Kind.BOOL:
            return self.emit(e)[0]
        t, p = self.number(e)
        return f"{t if p > CMP else f'({t})'}<>0"

    def call(self, e: Call) -> str:
        f, args = e.func, e.args
        if f == "IF":
            return f"IF({self.test(args[0])},{self.emit(args[1])[0]},{self.emit(args[2])[0]})"
        if f == "BLANK":
            return f'{self.ref(args[0].id)}=""'  # type: ignore[union-attr]
        if f == "ROUND":
            digits = format_number(args[1].value)  # type: ignore[union-attr]
            return f"ROUND({self.number(args[0])[0]},{digits})"
        if f == "ABS":
            return f"ABS({self.number(args[0])[0]})"
        parts = []
        for a in args:  # SUM / MIN / MAX
            if isinstance(a, Name):
                parts.append(self.ref(a.id))
            elif kind(a) is Kind.NUM and not may_be_empty(a):
                parts.append(self.emit(a)[0])
            else:
                t, p = self.emit(a)
                parts.append(f"{t if p >= ADD else f'({t})'}+0")
        return f"{f}({','.join(parts)})"
