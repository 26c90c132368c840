"""Compile an expression to a Python function whose semantics mirror Excel.

Values of names: a number (int/float), or None/"" for an empty cell. Rules (Excel's):

* arithmetic, comparisons, ABS, ROUND, logical tests: an empty cell counts as 0;
* SUM/MIN/MAX ignore an empty cell given *directly* as an argument (a bare name), as Excel
  ignores empty cells in references: MIN(empty, 5) = 5, MIN(empty) = 0, SUM(empty) = 0. Any
  other argument (an expression, an IF) is a number, empty counting as 0 — to_excel emits
  ``IF(...)+0`` there so that Excel agrees;
* ``/`` by zero (or by an empty cell) -> EvalError, like #DIV/0!;
* a non-empty text (or a logical value, or anything not a finite number) in a cell used as a
  value -> EvalError. Stricter than Excel on purpose: Excel would coerce "5" to 5 in arithmetic
  (locale-dependent) and silently skip text in SUM; for a reporting form a text in a numeric
  cell is an input error. BLANK(x) never raises for text: it is simply False;
* comparisons and and/or/not return bool; a bool in arithmetic is 1/0; comparing a logical
  value with a number compares 1/0 (to_excel adds ``+0`` so that Excel, which would rank TRUE
  above every number, agrees);
* ``and``/``or`` evaluate every operand (Excel's AND/OR do: an error in any operand is an
  error); IF evaluates only the chosen branch (as Excel does);
* numbers of cells are converted to float: Excel computes in IEEE doubles, so products beyond
  2**53 round as in Excel (integer literals stay int, equal in value);
* ROUND rounds half away from zero on the decimal representation (ROUND(2.675, 2) = 2.68).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from numbers import Real

from cos_xl.errors import EvalError
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
)

# --- runtime helpers (the only globals the generated code sees) ------------------------------


def _lookup(v: Mapping[str, object], k: str) -> object:
    try:
        return v[k]
    except KeyError:
        raise EvalError(f"Нет значения для {k!r} (no value for {k!r})") from None


def _bad_value(k: str, x: object) -> EvalError:
    if isinstance(x, str):
        return EvalError(f"В ячейке {k!r} текст {x!r} вместо числа "
                         f"(#VALUE!: text in {k!r} used as a number)")
    return EvalError(f"В ячейке {k!r} значение {x!r} не является числом "
                     f"(#VALUE!: {type(x).__name__} in {k!r} is not a number)")


def _v(v: Mapping[str, object], k: str) -> float | None:
    """Raw cell value as a float (Excel stores every number as a double), None when empty."""
    try:
        x = v[k]
    except KeyError:
        raise EvalError(f"Нет значения для {k!r} (no value for {k!r})") from None
    t = type(x)
    if t is float:
        if x - x == 0:  # finite
            return x  # type: ignore[return-value]
    elif t is int:
        return float(x)  # type: ignore[arg-type]
    elif x is None or x == "":
        return None
    return _other(k, x)


def _other(k: str, x: object) -> float:
    if isinstance(x, (Real, Decimal)) and not isinstance(x, bool):
        try:
            f = float(x)
        except OverflowError:
            f = math.inf
        if math.isfinite(f):
            return f
    raise _bad_value(k, x)


def _n(v: Mapping[str, object], k: str) -> float:
    """Cell value as a number: an empty cell is 0."""
    try:
        x = v[k]
    except KeyError:
        raise EvalError(f"Нет значения для {k!r} (no value for {k!r})") from None
    t = type(x)
    if t is float:
        if x - x == 0:  # finite
            return x  # type: ignore[return-value]
    elif t is int:
        return float(x)  # type: ignore[arg-type]
    elif x is None or x == "":
        return 0.0
    return _other(k, x)


class ErrorValue(str):
    """An Excel error value held in a cell (``#VALUE!``): every use of it is an error, as in
    Excel, where even ``A1=""`` on an error cell gives the error."""


#: The error value the indicator core stores for a cell whose formula fails.
ERROR = ErrorValue("#VALUE!")


def _blank(v: Mapping[str, object], k: str) -> bool:
    x = _lookup(v, k)
    if isinstance(x, ErrorValue):
        raise EvalError(f"В ячейке {k!r} ошибка {x} (error value)")
    return x is None or x == ""


def _div(a: int | float, b: int | float) -> float:
    if b == 0:
        raise EvalError("Деление на ноль (#DIV/0!: division by zero)")
    try:
        return a / b
    except OverflowError:
        raise EvalError("Переполнение при делении (#NUM!: overflow)") from None


def _num(x: object) -> int | float:
    return int(x) if type(x) is bool else x  # type: ignore[return-value]


def _sum(*xs: object) -> int | float:
    total: int | float = 0
    for x in xs:
        if x is not None:
            total += x  # type: ignore[operator]
    return total


def _min(*xs: object) -> int | float:
    present = [x for x in xs if x is not None]
    return _num(min(present)) if present else 0


def _max(*xs: object) -> int | float:
    present = [x for x in xs if x is not None]
    return _num(max(present)) if present else 0


_ROUND_CTX = Context(prec=1000)


def _round(x: object, digits: int) -> int | float:
    x = _num(x)
    if type(x) is int:
        if digits >= 0:
            return x
        d = Decimal(x)
    else:
        d = Decimal(repr(x))  # the shortest decimal form, which is what Excel rounds
    q = d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_ROUND_CTX)
    return int(q) if type(x) is int else float(q)


def _abs(x: object) -> int | float:
    return abs(_num(x))


_GLOBALS: dict[str, object] = {
    "__builtins__": {},
    "_n": _n,
    "_v": _v,
    "_blank": _blank,
    "_div": _div,
    "_sum": _sum,
    "_min": _min,
    "_max": _max,
    "_round": _round,
    "_abs": _abs,
    "_all": all,
    "_any": any,
}

# --- source generation -----------------------------------------------------------------------

_PY_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}


def to_python_source(expr: Expr) -> str:
    """Python source of the expression over a mapping named ``v`` (see module docstring)."""
    return _val(expr)


def _val(e: Expr) -> str:
    """Source giving a number or a bool, never None (an empty cell is 0)."""
    if isinstance(e, Num):
        return repr(e.value)
    if isinstance(e, Name):
        return f"_n(v, {e.id!r})"
    if isinstance(e, Unary):
        return f"(-{_val(e.operand)})"
    if isinstance(e, Binary):
        if e.op == "/":
            return f"_div({_val(e.left)}, {_val(e.right)})"
        return f"({_val(e.left)} {e.op} {_val(e.right)})"
    if isinstance(e, Compare):
        return f"({_val(e.left)} {_PY_CMP[e.op]} {_val(e.right)})"
    if isinstance(e, BoolOp):
        fn = "_all" if e.op == "and" else "_any"
        return f"{fn}(({', '.join(_test(x) for x in e.values)},))"
    if isinstance(e, Not):
        return f"(not {_test(e.operand)})"
    if isinstance(e, Call):
        return _call(e)
    raise TypeError(f"not an expression node: {e!r}")


def _test(e: Expr) -> str:
    """Source giving a bool (a number is true when non-zero)."""
    if kind(e) is Kind.BOOL:
        return _val(e)
    return f"({_val(e)} != 0)"


def _call(e: Call) -> str:
    f, args = e.func, e.args
    if f == "IF":
        return f"({_val(args[1])} if {_test(args[0])} else {_val(args[2])})"
    if f == "BLANK":
        return f"_blank(v, {args[0].id!r})"  # type: ignore[union-attr]
    if f == "ROUND":
        return f"_round({_val(args[0])}, {args[1].value!r})"  # type: ignore[union-attr]
    if f == "ABS":
        return f"_abs({_val(args[0])})"
    # SUM/MIN/MAX: a bare name passes its raw value (None = empty, ignored by the helper).
    parts = [f"_v(v, {a.id!r})" if isinstance(a, Name) else _val(a) for a in args]
    return f"_{f.lower()}({', '.join(parts)})"


# --- compilation -----------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def compile_python(expr: Expr) -> Callable[[Mapping[str, object]], object]:
    """A function evaluating ``expr`` on a mapping of input id -> cell value.

    Returns a number or a bool; raises EvalError as Excel would show an error value.
    Compiled once per expression (cached); the generated code sees only our helpers.
    """
    src = to_python_source(expr)
    code = compile(f"lambda v: {src}", "<cos_xl.expr>", "eval")
    fn = eval(code, dict(_GLOBALS))  # noqa: S307 - restricted globals, whitelisted source

    def evaluate(values: Mapping[str, object]) -> object:
        try:
            result = fn(values)
        except OverflowError:
            raise EvalError("Переполнение (#NUM!: overflow)") from None
        if type(result) is float and not math.isfinite(result):
            raise EvalError("Результат вне диапазона чисел (#NUM!: result is not finite)")
        return result

    evaluate.__doc__ = src
    return evaluate
