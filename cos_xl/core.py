"""The indicator core: one Python evaluation of a form over a region's inputs.

The validator, the UDFs, the consolidation and the tests all call this; the workbook computes the
same things with native formulas compiled from the same expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cos_xl import expr
from cos_xl.errors import EvalError
from cos_xl.rules.inputs import OK, InputProblem, check_input, fmt_number
from cos_xl.spec import Form, Label, RuleInstance, Value
from cos_xl.spec.form import PREV_SAME_YEAR

#: Stands for an Excel error value (#VALUE!, #DIV/0!) in a namespace; any use of it fails.
ERROR = expr.ERROR
EMPTY_IN_MESSAGE = "(пусто)"
NOT_EVALUATED = "Проверка не выполнена: сначала исправьте ошибки в исходных данных"


@dataclass(frozen=True)
class IndicatorValue:
    """An indicator of one region: value in % (shares) or persons (counts); None when empty."""

    code: str
    numerator: float | None
    denominator: float | None
    value: float | None


@dataclass(frozen=True)
class RuleResult:
    rule: RuleInstance
    status: Literal["ok", "fail", "not-applicable", "not-evaluated"]
    message: str  # "OK" unless failed


def _eval(compiled, ns: Mapping[str, object]) -> object:
    try:
        return compiled(ns)
    except EvalError:
        return ERROR


def namespace(form: Form, inputs: Mapping[str, object],
              previous: Mapping[str, float | None] | None = None,
              prev_same_year: bool = False) -> dict[str, object]:
    """Every name a form knows, with its value for these inputs (None for an empty cell).

    ``previous`` maps indicator codes to the region's previous accepted values."""
    previous = previous or {}
    ns: dict[str, object] = {item.id: inputs.get(item.id) for item in form.inputs}
    for ind in form.indicators:
        num = _eval(expr.compile_python(ind.numerator), ns)
        ns[ind.spec.num_name] = num
        if ind.denominator is None:
            ns[ind.spec.name] = num
        else:
            den = _eval(expr.compile_python(ind.denominator), ns)
            ns[ind.spec.den_name] = den
            # Mirrors IF(DEN=0,"",NUM/DEN*100): the numerator is not looked at when DEN is 0.
            if den == ERROR:
                ns[ind.spec.name] = ERROR
            elif den == 0:
                ns[ind.spec.name] = None
            elif num == ERROR:
                ns[ind.spec.name] = ERROR
            else:
                ns[ind.spec.name] = num / den * 100
        ns[ind.spec.prev_name] = previous.get(ind.spec.code)
    ns[PREV_SAME_YEAR] = 1 if prev_same_year else 0
    return ns


def compute_indicators(form: Form, inputs: Mapping[str, object]) -> dict[str, IndicatorValue]:
    """Indicator values for one region; a share with a zero denominator has no value."""
    ns = namespace(form, inputs)
    out = {}
    for ind in form.indicators:
        def number(name: str) -> float | None:
            value = ns.get(name)
            return None if value is None or value == ERROR else value
        out[ind.spec.code] = IndicatorValue(
            code=ind.spec.code,
            numerator=number(ind.spec.num_name),
            denominator=number(ind.spec.den_name) if ind.denominator is not None else None,
            value=number(ind.spec.name),
        )
    return out


def format_message(form: Form, rule: RuleInstance, ns: Mapping[str, object]) -> str:
    parts = []
    for part in rule.message:
        if isinstance(part, Label):
            parts.append(form.label(part.name))
        elif isinstance(part, Value):
            if isinstance(part.expr, expr.Name) and ns.get(part.expr.id) in (None, ""):
                parts.append(EMPTY_IN_MESSAGE)
                continue
            value = expr.compile_python(part.expr)(ns)
            parts.append(fmt_number(value) if isinstance(value, int | float) else str(value))
        else:
            parts.append(part)
    return "".join(parts)


def evaluate_rule(form: Form, rule: RuleInstance, ns: Mapping[str, object]) -> RuleResult:
    """Mirror of the check-sheet formula ``IFERROR(IF(when, IF(check, "OK", msg), "OK"), …)``."""
    try:
        if rule.when is not None and not expr.compile_python(rule.when)(ns):
            return RuleResult(rule, "not-applicable", OK)
        if expr.compile_python(rule.check)(ns):
            return RuleResult(rule, "ok", OK)
        return RuleResult(rule, "fail", format_message(form, rule, ns))
    except EvalError:
        return RuleResult(rule, "not-evaluated", NOT_EVALUATED)


def evaluate_rules(form: Form, ns: Mapping[str, object]) -> list[RuleResult]:
    return [evaluate_rule(form, rule, ns) for rule in form.rules]


def input_problems(form: Form, inputs: Mapping[str, object]) -> dict[str, InputProblem]:
    """Input id -> its problem, for every input with one."""
    problems = {}
    for item in form.inputs:
        problem = check_input(item, inputs.get(item.id), form.label(item.id))
        if problem is not None:
            problems[item.id] = problem
    return problems


def check_inputs(form: Form, inputs: Mapping[str, object]) -> dict[str, tuple[str, str]]:
    """Input id -> (finding code, Russian message) for every input with a problem."""
    return {input_id: (problem.code, problem.message)
            for input_id, problem in input_problems(form, inputs).items()}
