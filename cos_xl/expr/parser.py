"""parse(): Python's ``ast`` (mode="eval") converted to our nodes through a whitelist."""

from __future__ import annotations

import ast
import math
import re
from functools import lru_cache

from cos_xl.errors import ExprError
from cos_xl.plural import quantity
from cos_xl.expr.nodes import (
    FUNCTIONS,
    IDENT_RE,
    Binary,
    BoolOp,
    Call,
    Compare,
    Expr,
    Name,
    Not,
    Num,
    Unary,
)

MAX_LENGTH = 2000
#: Maximum nesting depth of the tree. Keeps every recursive walk (ours, compile()) far from
#: Python's limits; a real rule is a handful of levels deep.
MAX_DEPTH = 64
ROUND_DIGITS = range(-15, 16)

_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}

# Rejected operators: (token to locate in the source, Russian, English).
_BAD_BINOPS = {
    ast.Pow: ("**", "возведение в степень не поддерживается", "'**' is not allowed"),
    ast.Mod: ("%", "остаток от деления не поддерживается", "'%' is not allowed"),
    ast.FloorDiv: ("//", "целочисленное деление не поддерживается", "'//' is not allowed"),
    ast.BitAnd: ("&", "битовая операция '&' не поддерживается (используйте and)",
                 "bitwise '&' is not allowed, use 'and'"),
    ast.BitOr: ("|", "битовая операция '|' не поддерживается (используйте or)",
                "bitwise '|' is not allowed, use 'or'"),
    ast.BitXor: ("^", "битовая операция '^' не поддерживается (степени нет в языке)",
                 "bitwise '^' is not allowed; there is no power operator"),
    ast.LShift: ("<<", "битовый сдвиг не поддерживается", "'<<' is not allowed"),
    ast.RShift: (">>", "битовый сдвиг не поддерживается", "'>>' is not allowed"),
    ast.MatMult: ("@", "операция '@' не поддерживается", "'@' is not allowed"),
}

_BAD_NODES = {
    ast.Attribute: ("обращение к атрибуту", "attribute access is not allowed"),
    ast.Subscript: ("индексация", "subscripts are not allowed"),
    ast.Slice: ("срез", "slices are not allowed"),
    ast.Lambda: ("lambda-функция", "lambda is not allowed"),
    ast.ListComp: ("генератор списка", "comprehensions are not allowed"),
    ast.SetComp: ("генератор множества", "comprehensions are not allowed"),
    ast.DictComp: ("генератор словаря", "comprehensions are not allowed"),
    ast.GeneratorExp: ("генераторное выражение", "generator expressions are not allowed"),
    ast.IfExp: ("условное выражение Python (используйте IF(условие, a, b))",
                "Python 'x if c else y' is not allowed, use IF(cond, a, b)"),
    ast.Tuple: ("кортеж", "tuples are not allowed"),
    ast.List: ("список", "lists are not allowed"),
    ast.Set: ("множество", "sets are not allowed"),
    ast.Dict: ("словарь", "dicts are not allowed"),
    ast.JoinedStr: ("строка (f-строка)", "strings are not allowed"),
    ast.NamedExpr: ("присваивание ':='", "assignment expressions are not allowed"),
    ast.Starred: ("распаковка '*'", "*args are not allowed"),
    ast.Await: ("await", "await is not allowed"),
    ast.Yield: ("yield", "yield is not allowed"),
    ast.YieldFrom: ("yield", "yield is not allowed"),
}

_ALLOWED_FUNCS = ", ".join(FUNCTIONS)


def _arguments(lo: int, hi: int | None) -> str:
    """How many arguments a function takes: «1 аргумент», «от 1 до 3 аргументов»."""
    if lo == hi:
        return quantity(lo, "аргумент", "аргумента", "аргументов")
    genitive = ("аргумента", "аргументов", "аргументов")
    if hi is None:
        return f"не меньше {quantity(lo, *genitive)}"
    return f"от {lo} до {quantity(hi, *genitive)}"


def _quote(source: str) -> str:
    return repr(source if len(source) <= 120 else source[:120] + "…")


class _Converter:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.split("\n")

    # --- error reporting -------------------------------------------------------------------

    def _where(self, lineno: int, byte_col: int) -> str:
        # ast offsets are UTF-8 byte offsets; report a 1-based character position.
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        col = len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace")) + 1
        return f"позиция {col}" if lineno <= 1 else f"строка {lineno}, позиция {col}"

    def fail(self, node: ast.AST, ru: str, en: str, *, byte_col: int | None = None,
             lineno: int | None = None) -> ExprError:
        where = self._where(lineno or getattr(node, "lineno", 1),
                            getattr(node, "col_offset", 0) if byte_col is None else byte_col)
        return ExprError(
            f"Недопустимая конструкция в выражении {_quote(self.source)} ({where}): {ru} ({en})"
        )

    def _op_col(self, node: ast.BinOp, token: str) -> tuple[int, int]:
        """(lineno, byte column) of the operator token between the two operands."""
        left, right = node.left, node.right
        if left.end_lineno == right.lineno == node.lineno:
            line = self.lines[node.lineno - 1].encode("utf-8")
            pos = line.find(token.encode(), left.end_col_offset, right.col_offset)
            if pos >= 0:
                return node.lineno, pos
        return node.lineno, node.col_offset

    # --- conversion --------------------------------------------------------------------------

    def convert(self, node: ast.AST, depth: int = 1) -> Expr:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"слишком глубокая вложенность (больше {MAX_DEPTH} уровней; "
                            "для длинных сумм используйте SUM)",
                            f"nesting deeper than {MAX_DEPTH} levels")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            if not IDENT_RE.match(node.id):
                raise self.fail(node, f"имя {node.id!r} должно состоять из латинских букв, цифр "
                                "и '_'", "identifiers must match [A-Za-z_][A-Za-z0-9_]*")
            return Name(node.id)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Unary("-", self.convert(node.operand, d))
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand, d)  # unary plus is a no-op, as in Excel
            if isinstance(node.op, ast.Not):
                return Not(self.convert(node.operand, d))
            raise self.fail(node, "битовая операция '~' не поддерживается", "'~' is not allowed")
        if isinstance(node, ast.BinOp):
            op = _ARITH.get(type(node.op))
            if op is None:
                token, ru, en = _BAD_BINOPS.get(
                    type(node.op), ("?", "операция не поддерживается", "operator not allowed"))
                lineno, col = self._op_col(node, token)
                raise self.fail(node, ru, en, byte_col=col, lineno=lineno)
            return Binary(op, self.convert(node.left, d), self.convert(node.right, d))
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise self.fail(node, "цепочка сравнений вида 'a < b < c' не допускается, "
                                "запишите '(a < b) and (b < c)'",
                                "chained comparisons are not allowed")
            op = _CMP.get(type(node.ops[0]))
            if op is None:
                raise self.fail(node, "допустимы только сравнения < <= > >= == !=",
                                "'in', 'not in', 'is', 'is not' are not allowed")
            return Compare(op, self.convert(node.left, d), self.convert(node.comparators[0], d))
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(op, tuple(self.convert(v, d) for v in node.values))
        if isinstance(node, ast.Call):
            return self._call(node, d)
        ru, en = _BAD_NODES.get(type(node), ("конструкция не поддерживается",
                                             f"{type(node).__name__} is not allowed"))
        raise self.fail(node, ru, en)

    def _constant(self, node: ast.Constant) -> Num:
        v = node.value
        if isinstance(v, bool):
            raise self.fail(node, "логические константы True/False не поддерживаются "
                            "(используйте сравнение)", "boolean literals are not allowed")
        if isinstance(v, int):
            return Num(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise self.fail(node, "число вне допустимого диапазона",
                                "number literal is not finite")
            return Num(v)
        if isinstance(v, (str, bytes)):
            raise self.fail(node, "строки не поддерживаются", "strings are not allowed")
        if isinstance(v, complex):
            raise self.fail(node, "комплексные числа не поддерживаются",
                            "complex numbers are not allowed")
        raise self.fail(node, f"константа {v!r} не поддерживается", "constant not allowed")

    def _call(self, node: ast.Call, d: int) -> Call:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "вызывать можно только функции по имени: " + _ALLOWED_FUNCS,
                            "calls on non-names are not allowed")
        fname = node.func.id
        if fname not in FUNCTIONS:
            hint = (f"; имена функций пишутся заглавными: {fname.upper()}"
                    if fname.upper() in FUNCTIONS else "")
            raise self.fail(node, f"неизвестная функция {fname!r}; разрешены: "
                            f"{_ALLOWED_FUNCS}{hint}",
                            f"unknown function {fname!r}; allowed: {_ALLOWED_FUNCS}")
        if node.keywords:
            raise self.fail(node.keywords[0].value if node.keywords[0].arg else node,
                            f"именованные аргументы в {fname}() не поддерживаются",
                            "keyword arguments are not allowed")
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.fail(a, "распаковка '*' не поддерживается", "*args are not allowed")
        lo, hi = FUNCTIONS[fname]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            raise self.fail(node, f"{fname}() принимает {_arguments(lo, hi)}, передано {n}",
                            f"{fname}() takes {lo if lo == hi else f'{lo}..{hi}'} "
                            f"arguments, {n} given")
        if fname == "BLANK" and not isinstance(node.args[0], ast.Name):
            raise self.fail(node.args[0], "аргументом BLANK() должно быть имя ячейки",
                            "BLANK() takes an input id")
        if fname == "ROUND":
            digits = _int_literal(node.args[1])
            if digits is None or digits not in ROUND_DIGITS:
                raise self.fail(node.args[1], "второй аргумент ROUND() — целое число от -15 "
                                "до 15", "ROUND() digits must be an integer literal in -15..15")
            return Call(fname, (self.convert(node.args[0], d), Num(digits)))
        return Call(fname, tuple(self.convert(a, d) for a in node.args))


def _int_literal(node: ast.AST) -> int | None:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


def _syntax_hint(source: str) -> str:
    """Hints for habits carried over from Excel formulas."""
    if "<>" in source:
        return "; 'не равно' записывается как != (not <>)"
    if re.search(r"(?<![<>=!])=(?!=)", source):
        return "; сравнение на равенство записывается как == (not =)"
    if "&" in source or '"' in source:
        return "; строки и '&' не поддерживаются"
    return ""


@lru_cache(maxsize=4096)
def parse(source: str) -> Expr:
    """Parse and whitelist one expression. Raises ExprError with the position of the problem."""
    if not isinstance(source, str):
        raise ExprError(f"Выражение должно быть строкой, получено {type(source).__name__} "
                        "(expression must be a string)")
    if len(source) > MAX_LENGTH:
        raise ExprError(f"Слишком длинное выражение {_quote(source)}: "
                        f"{quantity(len(source), 'символ', 'символа', 'символов')}, "
                        f"допустимо не больше {MAX_LENGTH} (expression longer than "
                        f"{MAX_LENGTH} characters)")
    if not source.strip():
        raise ExprError("Пустое выражение (empty expression)")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        lineno = e.lineno or 1
        col = e.offset or 0
        if col < 1:  # Python reports offset 0 for an unexpected end of the expression
            lines = source.strip().split("\n")
            col = len(lines[min(lineno, len(lines)) - 1]) + 1
        where = f"позиция {col}" if lineno <= 1 else f"строка {lineno}, позиция {col}"
        raise ExprError(f"Синтаксическая ошибка в выражении {_quote(source)} ({where}): "
                        f"{e.msg}{_syntax_hint(source)} (syntax error)") from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise ExprError(f"Не удалось разобрать выражение {_quote(source)}: {e} "
                        "(cannot parse)") from None
    return _Converter(source.strip()).convert(tree.body)
