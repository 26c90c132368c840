"""Every finding code the validator can give, with its severity and Russian title: the codes
declared in :mod:`cos_xl.findings_catalogue` and the rules of the form, by stage (so the
documentation is generated and cannot drift)."""

from __future__ import annotations

from dataclasses import dataclass

from cos_xl.findings_catalogue import CODES, STAGES
from cos_xl.spec import Form, load_form

#: The form's rules are listed after the declared codes of this stage.
_RULES_STAGE = "значения"


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: str
    title: str
    stage: str


def catalogue(form: Form | None = None) -> list[CodeInfo]:
    form = form or load_form()
    out: list[CodeInfo] = []
    for stage in STAGES:
        out += [CodeInfo(code, c.severity, c.title, stage)
                for code, c in CODES.items() if c.stage == stage]
        if stage == _RULES_STAGE:
            seen: set[str] = set()
            for rule in form.rules:
                if rule.code not in seen:
                    seen.add(rule.code)
                    out.append(CodeInfo(rule.code, rule.severity, rule.title, stage))
    return out
