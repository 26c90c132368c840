"""Native Excel formulas of the template, compiled from the form's expressions."""

from __future__ import annotations

from cos_xl import expr
from cos_xl.core import EMPTY_IN_MESSAGE, NOT_EVALUATED
from cos_xl.rules.inputs import OK, excel_string
from cos_xl.spec import Form, Label, RuleInstance, Value
from cos_xl.spec.models import excel_defined_name


def to_excel(form: Form, node: expr.Expr) -> str:
    return expr.to_excel(node, excel_defined_name)


def number_formula(form: Form, node: expr.Expr) -> str:
    """A numeric cell's formula; a bare input gets ``+0`` so that text typed into the input
    shows #VALUE! (as the Python core reports) instead of being passed through as text."""
    formula = to_excel(form, node)
    return f"{formula}+0" if isinstance(node, expr.Name) else formula


def share_formula(num_name: str, den_name: str) -> str:
    """A share in percent that is empty (never 0, never #DIV/0!) when the denominator is 0."""
    return f'IF({den_name}=0,"",{num_name}/{den_name}*100)'


def message_formula(form: Form, rule: RuleInstance) -> str:
    pieces = []
    for part in rule.message:
        if isinstance(part, Label):
            pieces.append(excel_string(form.label(part.name)))
        elif isinstance(part, Value):
            value = to_excel(form, part.expr)
            if isinstance(part.expr, expr.Name):  # an empty cell reads "(пусто)", not ""
                value = f'IF({value}="",{excel_string(EMPTY_IN_MESSAGE)},{value})'
            pieces.append(f"({value})")
        elif part:
            pieces.append(excel_string(part))
    return "&".join(pieces) or '""'


def rule_formula(form: Form, rule: RuleInstance) -> str:
    """``OK`` or the Russian message; the explanatory text when inputs make it uncomputable."""
    return form.memoized(("rule_formula", rule.id), lambda: _rule_formula(form, rule))


def _rule_formula(form: Form, rule: RuleInstance) -> str:
    inner = f'IF({to_excel(form, rule.check)},"{OK}",{message_formula(form, rule)})'
    if rule.when is not None:
        inner = f'IF({to_excel(form, rule.when)},{inner},"{OK}")'
    return f"IFERROR({inner},{excel_string(NOT_EVALUATED)})"
