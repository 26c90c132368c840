"""What a resubmission changed against the version that counted before it: the inputs typed
differently and the indicators that moved, old → new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cos_xl.core import compute_indicators
from cos_xl.submission import Submission


@dataclass(frozen=True)
class Change:
    kind: str  # "input" or "indicator"
    name: str  # input id or indicator code
    label: str  # Russian
    unit: str
    old: object
    new: object


def baseline(history: Sequence[Submission], version: int) -> Submission | None:
    """The latest accepted version before ``version``: what a resubmission is compared with."""
    earlier = [s for s in history if s.version < version and s.accepted]
    return max(earlier, key=lambda s: s.version) if earlier else None


def _form(sub: Submission):
    from cos_xl.validate.expected import UnknownTemplate, form_for
    try:
        return form_for({"form_id": sub.form_id, "form_version": sub.form_version})
    except UnknownTemplate:
        return None


def _same(old: object, new: object) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float):
        return abs(float(old) - float(new)) < 1e-9
    return old == new


def what_changed(before: Submission, after: Submission) -> list[Change]:
    """Inputs in the form's order, then indicators; only what differs."""
    form = _form(after)
    if form is None:
        return []
    changes = []
    for item in form.inputs:
        old, new = before.values.get(item.id), after.values.get(item.id)
        if not _same(old, new):
            number = form.row_numbers.get(item.id)
            label = f"{number}. {item.short}" if number else item.short
            changes.append(Change("input", item.id, label, item.unit, old, new))
    old_ind = compute_indicators(form, before.values)
    new_ind = compute_indicators(form, after.values)
    for ind in form.indicators:
        code = ind.spec.code
        old, new = old_ind[code].value, new_ind[code].value
        if not _same(old, new):
            changes.append(Change("indicator", code, f"{code} {ind.spec.short}", ind.spec.unit,
                                  old, new))
    return changes
