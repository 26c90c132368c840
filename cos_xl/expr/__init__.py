"""The safe expression language of form specifications, compiled to Python and to Excel.

    >>> e = parse("e403_go <= students_go")
    >>> compile_python(e)({"e403_go": 3, "students_go": None})
    False
    >>> to_excel(e)
    'e403_go<=students_go'

Modules: nodes (tree, names, substitute), parser (whitelist), to_python (evaluation
semantics, mirroring Excel), excel (formula emission).
"""

from cos_xl.expr.nodes import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Expr,
    Name,
    Not,
    Num,
    Unary,
    names,
    substitute,
)
from cos_xl.expr.parser import parse
from cos_xl.expr.excel import to_excel
from cos_xl.expr.to_python import ERROR, ErrorValue, compile_python, to_python_source

__all__ = [
    "ERROR",
    "ErrorValue",
    "Binary",
    "BoolOp",
    "Call",
    "Compare",
    "Expr",
    "Name",
    "Not",
    "Num",
    "Unary",
    "compile_python",
    "names",
    "parse",
    "substitute",
    "to_excel",
    "to_python_source",
]
