"""Findings about the values of a returned workbook: every input check and every rule of the
form (the same compiled rules as the workbook's check sheet), explained warnings, and indicator
values cached in the file that do not match a recomputation."""

from __future__ import annotations

import math

from cos_xl import core
from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding, rule_finding
from cos_xl.periods import Period
from cos_xl.rules.inputs import fmt_number
from cos_xl.spec import Form
from cos_xl.validate.reader import Returned


def _plain(value: object) -> object:
    """Numbers arrive as floats; a whole number is an int for the messages."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value == "":
        return None
    return value


def _where(returned: Returned, name: str) -> tuple[str | None, str | None]:
    address = ((returned.manifest or {}).get("names") or {}).get(name)
    if not address:
        return None, None
    sheet, cell = address.rsplit("!", 1)
    return sheet, cell


def previous_of(returned: Returned) -> tuple[dict[str, float], bool]:
    """The previous accepted values the template was issued with, and whether they are of the
    same year (cumulative counts may not decrease within a year)."""
    manifest = returned.manifest or {}
    previous = manifest.get("previous") or {}
    values = {k: v for k, v in (previous.get("values") or {}).items() if v is not None}
    same_year = False
    if previous.get("period") and manifest.get("period"):
        same_year = Period.parse(previous["period"]).year == Period.parse(manifest["period"]).year
    return values, same_year


def value_findings(form: Form, returned: Returned,
                   previous: tuple[dict[str, float], bool] | None = None) -> list[Finding]:
    """Findings for the values; ``previous`` overrides the values prefilled in the template."""
    inputs = {name: _plain(value) for name, value in returned.values.items()}
    findings: list[Finding] = []
    for input_id, problem in core.input_problems(form, inputs).items():
        sheet, cell = _where(returned, input_id)
        findings.append(finding(problem.code, name=input_id, sheet=sheet, cell=cell,
                                value=returned.values.get(input_id), **problem.values))
    prev_values, same_year = previous if previous is not None else previous_of(returned)
    ns = core.namespace(form, inputs, prev_values, same_year)
    for result in core.evaluate_rules(form, ns):
        # "not-evaluated" means an input holds text: that input already has its finding.
        if result.status != "fail":
            continue
        rule = result.rule
        sheet, cell = _where(returned, rule.target)
        findings.append(rule_finding(rule, result.message, returned.explanations.get(rule.id),
                                     sheet=sheet, cell=cell, value=ns.get(rule.target)))
    findings += _stale_cache(form, returned, ns)
    return findings


def _stale_cache(form: Form, returned: Returned, ns: dict) -> list[Finding]:
    """A warning per indicator whose value saved in the file differs from the recomputation;
    indicators saved with no value at all (a program that writes formulas without computing
    them: openpyxl, a script, a copy annotated by the validator) get one note together."""
    out, uncalculated = [], []
    for ind in form.indicators:
        if ind.spec.code not in returned.cached:
            continue
        expected = ns.get(ind.spec.name)
        if expected is core.ERROR:
            continue
        got = returned.cached[ind.spec.code]
        if got is None and expected is not None:  # no <v> at all: never calculated
            uncalculated.append(ind.spec.code)
            continue
        got = None if got == "" else got
        same = (got is None and expected is None) or (
            isinstance(got, int | float) and isinstance(expected, int | float)
            and math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9))
        if not same:
            sheet, cell = _where(returned, ind.spec.name)
            out.append(finding(
                "indicator-cache-stale", name=ind.spec.name, sheet=sheet, cell=cell, value=got,
                label=form.label(ind.spec.name), found=_number(got), wanted=_number(expected)))
    if uncalculated:
        out.insert(0, finding("indicators-not-calculated", value=uncalculated,
                              codes=", ".join(uncalculated)))
    return out


def _number(value: object) -> str:
    """A number as a Russian reader writes it, to six decimals at most: ``99,282297``;
    «пусто» for no value."""
    if value is None:
        return "пусто"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return fmt_number(round(float(value), 6))
    return str(value)
