"""Every finding code the validator can give, with its severity and Russian title, collected
from the modules that emit them (so the documentation is generated and cannot drift)."""

from __future__ import annotations

from dataclasses import dataclass

from cos_xl.rules.inputs import CODES as INPUT_CODES
from cos_xl.spec import Form, load_form
from cos_xl.submission import INTAKE_CODES
from cos_xl.validate.integrity import INTEGRITY_CODES
from cos_xl.validate.run import IDENTITY_CODES
from cos_xl.validate.safety import SAFETY_CODES
from cos_xl.validate.values import VALUE_CODES


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: str
    title: str
    stage: str


def catalogue(form: Form | None = None) -> list[CodeInfo]:
    form = form or load_form()
    out: list[CodeInfo] = []
    for stage, codes in (("файл", SAFETY_CODES), ("подлинность", IDENTITY_CODES),
                         ("структура", INTEGRITY_CODES)):
        out += [CodeInfo(code, severity, title, stage)
                for code, (severity, title) in codes.items()]
    out += [CodeInfo(code, "error", title, "значения") for code, title in INPUT_CODES.items()]
    seen: set[str] = set()
    for rule in form.rules:
        if rule.code not in seen:
            seen.add(rule.code)
            out.append(CodeInfo(rule.code, rule.severity, rule.title, "значения"))
    out += [CodeInfo(code, severity, title, "значения")
            for code, (severity, title) in VALUE_CODES.items()]
    out += [CodeInfo(code, severity, title, "приём")
            for code, (severity, title) in INTAKE_CODES.items()]
    return out
