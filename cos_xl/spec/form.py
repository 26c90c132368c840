"""A loaded form: the spec with derived inputs, row numbers, parsed expressions and expanded rules.

Everything the template builder, the validator and the consolidation need to know about a form
version comes from here, so that one definition runs in every place.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cos_xl import expr
from cos_xl.spec.models import FormSpec, Indicator, Input, excel_defined_name

#: Names every form has besides its inputs and indicators.
PREV_SAME_YEAR = "PREV_SAME_YEAR"


@dataclass(frozen=True)
class Label:
    """``{name.label}`` in a message: the Russian label of a name."""

    name: str


@dataclass(frozen=True)
class Value:
    """``{expression}`` in a message: the value of an expression."""

    expr: expr.Expr


MessagePart = str | Label | Value
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_LABEL_REF = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\.label\s*$")


def parse_message(template: str, bindings: dict[str, str]) -> tuple[MessagePart, ...]:
    """Split a message template into literal text, labels and values, applying the bindings."""
    parts: list[MessagePart] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > pos:
            parts.append(template[pos : match.start()])
        inner = match.group(1)
        label = _LABEL_REF.match(inner)
        if label:
            parts.append(Label(bindings.get(label.group(1), label.group(1))))
        else:
            parts.append(Value(expr.substitute(expr.parse(inner), bindings)))
        pos = match.end()
    if pos < len(template):
        parts.append(template[pos:])
    return tuple(parts)


@dataclass(frozen=True)
class RuleInstance:
    """One concrete check: a rule of the spec with its bindings applied."""

    id: str
    code: str
    severity: str
    title: str
    check: expr.Expr
    when: expr.Expr | None
    message: tuple[MessagePart, ...]
    target: str

    def names(self) -> frozenset[str]:
        used = set(expr.names(self.check))
        if self.when is not None:
            used |= expr.names(self.when)
        for part in self.message:
            if isinstance(part, Value):
                used |= expr.names(part.expr)
            elif isinstance(part, Label):
                used.add(part.name)
        return frozenset(used)


def ordered_names(node: expr.Expr) -> list[str]:
    """Names of an expression in order of first appearance."""
    out: list[str] = []

    def walk(item: object) -> None:
        if isinstance(item, expr.Name):
            if item.id not in out:
                out.append(item.id)
        elif isinstance(item, tuple):
            for child in item:
                walk(child)
        elif dataclasses.is_dataclass(item):
            for f in dataclasses.fields(item):
                walk(getattr(item, f.name))

    walk(node)
    return out


@dataclass(frozen=True)
class CompiledIndicator:
    """An indicator with its expressions parsed once."""

    spec: Indicator
    numerator: expr.Expr
    denominator: expr.Expr | None

    @property
    def arguments(self) -> list[str]:
        """Input ids the indicator depends on: numerator's, then denominator's. This is the
        parameter order of its UDF (``COS_E403(e403_go, …, students_spo)``)."""
        names = ordered_names(self.numerator)
        if self.denominator is not None:
            names += [n for n in ordered_names(self.denominator) if n not in names]
        return names


@dataclass(frozen=True)
class Form:
    """A form version ready for use by every stage."""

    spec: FormSpec
    path: Path
    inputs: tuple[Input, ...]
    indicators: tuple[CompiledIndicator, ...]
    rules: tuple[RuleInstance, ...]
    row_numbers: dict[str, str] = field(default_factory=dict)
    #: Memo of compiled artefacts (Excel formulas…) keyed by what they were compiled from.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    def memoized(self, key: tuple, compute):
        """``compute()`` once per key for this form (a form never changes once loaded)."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = compute()
            return value

    @property
    def id(self) -> str:
        return self.spec.form.id

    @property
    def version(self) -> str:
        return self.spec.form.version

    @cached_property
    def input_by_id(self) -> dict[str, Input]:
        return {item.id: item for item in self.inputs}

    @cached_property
    def count_inputs(self) -> tuple[Input, ...]:
        return tuple(item for item in self.inputs if item.kind == "count")

    @cached_property
    def indicator_by_code(self) -> dict[str, CompiledIndicator]:
        return {ind.spec.code: ind for ind in self.indicators}

    @cached_property
    def indicator_names(self) -> dict[str, CompiledIndicator]:
        """Every name an indicator gives (IND_, NUM_, DEN_, PREV_) mapped to the indicator."""
        names: dict[str, CompiledIndicator] = {}
        for ind in self.indicators:
            own = [ind.spec.name, ind.spec.num_name, ind.spec.prev_name]
            if ind.denominator is not None:
                own.append(ind.spec.den_name)
            for name in own:
                names[name] = ind
        return names

    @cached_property
    def known_names(self) -> frozenset[str]:
        return frozenset(self.input_by_id) | frozenset(self.indicator_names) | {PREV_SAME_YEAR}

    def excel_name(self, name: str) -> str:
        """Workbook defined name of any name a form knows."""
        return excel_defined_name(name)

    def label(self, name: str) -> str:
        """Russian label of a name for findings: ``стр. 1.2 «…»`` or ``E4.03 «…»``."""
        if name in self.input_by_id:
            item = self.input_by_id[name]
            number = self.row_numbers.get(name)
            return f"стр. {number} «{item.short}»" if number else f"«{item.short}»"
        if name in self.indicator_names:
            ind = self.indicator_names[name].spec
            return f"{ind.code} «{ind.short}»"
        return name
