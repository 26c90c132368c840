"""Immutable (hashable) nodes of the expression language and the tree helpers on them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Union

from cos_xl.errors import ExprError

IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: Functions of the language and how many arguments each takes (min, max; None = unbounded).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "SUM": (1, 255),
    "MIN": (1, 255),
    "MAX": (1, 255),
    "ABS": (1, 1),
    "ROUND": (2, 2),
    "IF": (3, 3),
    "BLANK": (1, 1),
}

ARITH_OPS = ("+", "-", "*", "/")
COMPARE_OPS = ("<", "<=", ">", ">=", "==", "!=")
BOOL_OPS = ("and", "or")


@dataclass(frozen=True, slots=True)
class Num:
    value: int | float


@dataclass(frozen=True, slots=True)
class Name:
    id: str


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary minus. (Unary plus is a no-op in Excel and is dropped by the parser.)"""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # one of ARITH_OPS
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # one of COMPARE_OPS
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class Call:
    func: str  # one of FUNCTIONS
    args: tuple[Expr, ...]


Expr = Union[Num, Name, Unary, Binary, Compare, BoolOp, Not, Call]


def children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, (Num, Name)):
        return ()
    if isinstance(expr, (Unary, Not)):
        return (expr.operand,)
    if isinstance(expr, (Binary, Compare)):
        return (expr.left, expr.right)
    if isinstance(expr, BoolOp):
        return expr.values
    if isinstance(expr, Call):
        return expr.args
    raise TypeError(f"not an expression node: {expr!r}")


def names(expr: Expr) -> frozenset[str]:
    """The identifiers (input ids) the expression uses."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            found.add(node.id)
        else:
            stack.extend(children(node))
    return frozenset(found)


def substitute(expr: Expr, mapping: Mapping[str, str]) -> Expr:
    """Rename identifiers (instantiates templates such as ``part <= total``).

    Names absent from ``mapping`` stay as they are; every new name must be an identifier.
    """
    for old, new in mapping.items():
        if not isinstance(new, str) or not IDENT_RE.match(new):
            raise ExprError(
                f"Недопустимое имя {new!r} для подстановки вместо {old!r}: ожидается "
                f"идентификатор [A-Za-z_][A-Za-z0-9_]* (substitution target is not an identifier)"
            )
    return _subst(expr, mapping)


def _subst(e: Expr, m: Mapping[str, str]) -> Expr:
    if isinstance(e, Name):
        return Name(m.get(e.id, e.id))
    if isinstance(e, Num):
        return e
    if isinstance(e, Unary):
        return Unary(e.op, _subst(e.operand, m))
    if isinstance(e, Not):
        return Not(_subst(e.operand, m))
    if isinstance(e, Binary):
        return Binary(e.op, _subst(e.left, m), _subst(e.right, m))
    if isinstance(e, Compare):
        return Compare(e.op, _subst(e.left, m), _subst(e.right, m))
    if isinstance(e, BoolOp):
        return BoolOp(e.op, tuple(_subst(v, m) for v in e.values))
    if isinstance(e, Call):
        return Call(e.func, tuple(_subst(a, m) for a in e.args))
    raise TypeError(f"not an expression node: {e!r}")


# --- static kinds, shared by both back ends so that they normalise values the same way --------


class Kind(Enum):
    NUM = "num"  # always a number (a name may be an empty cell, which counts as 0)
    BOOL = "bool"  # always TRUE/FALSE
    ANY = "any"  # IF whose branches differ: a number or a logical value


def kind(expr: Expr) -> Kind:
    if isinstance(expr, (Compare, BoolOp, Not)):
        return Kind.BOOL
    if isinstance(expr, Call):
        if expr.func == "BLANK":
            return Kind.BOOL
        if expr.func == "IF":
            k1, k2 = kind(expr.args[1]), kind(expr.args[2])
            return k1 if k1 is k2 else Kind.ANY
    return Kind.NUM


def may_be_empty(expr: Expr) -> bool:
    """True when Excel may see an empty-cell reference here (a name, or an IF yielding one)."""
    if isinstance(expr, Name):
        return True
    if isinstance(expr, Call) and expr.func == "IF":
        return may_be_empty(expr.args[1]) or may_be_empty(expr.args[2])
    return False
