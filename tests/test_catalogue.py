"""Every finding code has a failing example and a passing counter-example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cos_xl.spec import load_form
from cos_xl.validate.catalogue import catalogue
from cos_xl.validate.reader import Returned
from cos_xl.validate.values import value_findings
from helpers import build
from test_validate_values import CLEAN

FORM = load_form()
MANIFEST = build()[1]
PERFECT = {**CLEAN, "e40105_go": 1_500, "e40105_do": 300}  # E4.01.05 = 100 %

# code -> (changes to PERFECT values, previous (values, same year), cached indicator values)
VALUE_EXAMPLES = {
    "value-missing": ({"students_go": None}, None, None),
    "value-as-text": ({"students_go": "1 234"}, None, None),
    "value-negative": ({"orgs_go": -1}, None, None),
    "value-fraction": ({"orgs_go": 10.5}, None, None),
    "email-invalid": ({"resp_email": "нет"}, None, None),
    "phone-invalid": ({"resp_phone": "123"}, None, None),
    "part-exceeds-total": ({"e403_go": 2_000_000}, None, None),
    "total-zero": ({"students_spo": 0, "e403_spo": 0, "e404_spo": 0, "e407_spo": 0}, None, None),
    "students-per-org": ({"orgs_do": 1, "e405_do": 1, "e40105_do": 1}, None, None),
    "pupils-per-teacher": ({"teachers_go": 1_000_000, "e408_go": 0}, None, None),
    "share-jump": ({}, ({"E4.03": 10.0}, False), None),
    "count-decreased": ({}, ({"E4.01.07": 9_999.0}, True), None),
    "target-not-met": ({"e40105_go": 1_000}, None, None),
    "no-info-system": ({"is_E4_03": None, "is_E4_03_other": None}, None, None),
    "indicator-cache-stale": ({}, None, {"E4.03": 12.0}),
}


def findings_for(values, previous=None, cached=None):
    returned = Returned(Path("x.xlsm"), "{}", "", MANIFEST, values=dict(values),
                        cached=cached or {})
    return {f.code for f in value_findings(FORM, returned, previous or ({}, False))}


@pytest.mark.parametrize("code", sorted(VALUE_EXAMPLES))
def test_value_code_fails_and_passes(code):
    changes, previous, cached = VALUE_EXAMPLES[code]
    assert code in findings_for({**PERFECT, **changes}, previous, cached)
    assert code not in findings_for(PERFECT)


def test_perfect_values_give_no_finding():
    assert findings_for(PERFECT) == set()


def test_every_code_is_exercised_by_a_test():
    """Codes of the file, identity and structure stages are asserted in test_safety.py and
    test_validate.py; their passing counter-example is the LibreOffice return of
    test_validate.py::test_libreoffice_return_passes, which has none of them."""
    sources = "\n".join(p.read_text(encoding="utf-8")
                        for p in Path(__file__).parent.glob("test_*.py"))
    quoted = set(re.findall(r'"([a-z][a-z0-9-]+)"', sources))
    missing = [c.code for c in catalogue() if c.code not in quoted and c.code not in VALUE_EXAMPLES]
    assert missing == []


def test_catalogue_codes_are_unique_and_kebab_case():
    codes = [c.code for c in catalogue()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", c) for c in codes)
