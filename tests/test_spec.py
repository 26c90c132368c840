"""The form specification: the contract of ids, and clear errors for a broken spec."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import tomli_w

from cos_xl.errors import SpecError
from cos_xl.spec import excel_defined_name, load_form, load_form_file, templates_dir

CONTRACT_INPUTS = {
    "students_go", "students_do", "students_spo", "e403_go", "e403_do", "e403_spo",
    "e404_go", "e404_do", "e404_spo", "e407_go", "e407_spo", "orgs_go", "orgs_do", "orgs_spo",
    "e405_go", "e405_do", "e405_spo", "e40105_go", "e40105_do", "teachers_go", "e408_go",
    "e40107", "e40111_students", "e40111_orgs_go",
}
CONTRACT_INDICATORS = {
    "E4.03": ("IND_E4_03", "COS_E403"), "E4.04": ("IND_E4_04", "COS_E404"),
    "E4.05": ("IND_E4_05", "COS_E405"), "E4.07": ("IND_E4_07", "COS_E407"),
    "E4.08": ("IND_E4_08", "COS_E408"), "E4.01.05": ("IND_E4_01_05", "COS_E40105"),
    "E4.01.07": ("IND_E4_01_07", "COS_E40107"), "E4.01.11": ("IND_E4_01_11", "COS_E40111"),
}


@pytest.fixture(scope="module")
def form():
    return load_form()


@pytest.fixture()
def spec_data() -> dict:
    return tomllib.loads((templates_dir() / "cos-2020.toml").read_text(encoding="utf-8"))


def write_spec(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_contract_inputs_and_indicators(form):
    counts = {item.id for item in form.count_inputs}
    assert counts == CONTRACT_INPUTS
    got = {ind.spec.code: (ind.spec.name, ind.spec.udf) for ind in form.indicators}
    assert got == CONTRACT_INDICATORS
    assert {"resp_name", "resp_position", "resp_phone", "resp_email"} <= set(form.input_by_id)


def test_every_part_is_checked_against_its_total(form):
    parts = {(item.id, item.part_of) for item in form.count_inputs if item.part_of}
    rules = {(r.target, next(iter(r.names() - {r.target}))) for r in form.rules
             if r.code == "part-exceeds-total"}
    assert parts == rules


def test_rules_are_expanded_with_unique_ids(form):
    ids = [rule.id for rule in form.rules]
    assert len(ids) == len(set(ids))
    assert "part-exceeds-total:e403_go" in ids
    assert all(rule.names() <= form.known_names for rule in form.rules)


@pytest.mark.parametrize("identifier, expected", [
    ("e40107", "_e40107"), ("students_go", "students_go"), ("e403_go", "e403_go"),
    ("IND_E4_03", "IND_E4_03"), ("R1C1", "_R1C1"), ("xfd1048576", "_xfd1048576"),
    ("xfe1", "xfe1"), ("a1048577", "a1048577"),
])
def test_excel_defined_name(identifier, expected):
    assert excel_defined_name(identifier) == expected


def test_labels_for_findings(form):
    assert form.label("e403_go") == "стр. 1.2 «ОО: цифровой профиль и план»"
    assert form.label("IND_E4_03").startswith("E4.03 «")


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["inputs"][5].__setitem__("part_of", "nonexistent"),
     r"inputs\[5\] \('e403_go'\)\.part_of: 'nonexistent' is not a count input"),
    (lambda d: d["inputs"][4].__setitem__("kind", "number"),
     r"inputs\[4\] \('students_go'\)\.kind: Input should be"),
    (lambda d: d["indicators"][0].__setitem__("numerator", "e403_go + os.system"),
     r"indicators\[0\] \('E4\.03'\)\.numerator: .*"),
    (lambda d: d["indicators"][0].__setitem__("numerator", "e403_go + bogus"),
     r"indicators\[0\] \('E4\.03'\)\.numerator: unknown names bogus"),
    (lambda d: d["rules"][0]["for_each"][0].__setitem__("part", "e999"),
     r"rules\[0\] \('part-exceeds-total'\)\.for_each\[0\]: unknown names e999"),
    (lambda d: d["inputs"].append(dict(d["inputs"][4])),
     r"duplicate input id 'students_go'"),
    (lambda d: d["form"].__setitem__("colour", "red"),
     r"form\.colour: Extra inputs are not permitted"),
    (lambda d: d["indicators"][6].__setitem__("denominator", "students_go"),
     r"a share needs a denominator and a count must not have one"),
])
def test_broken_spec_names_file_key_and_problem(tmp_path, spec_data, mutate, expected):
    mutate(spec_data)
    path = write_spec(tmp_path, spec_data)
    with pytest.raises(SpecError) as info:
        load_form_file(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    assert re.search(expected, message), message


def test_invalid_toml_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[form\nid = 1", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_form_file(path)


def test_unknown_form_lists_the_known_ones():
    with pytest.raises(SpecError, match="cos-2020"):
        load_form("cos-1999")
