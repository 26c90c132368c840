"""The findings catalogue is the one source of codes, severities and messages: every code is
declared once with its wording, call sites name a code and pass values, and no emitter types a
severity."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import (
    CODES,
    EXPLAINED,
    STAGES,
    codes_of,
    finding,
    message,
    more_like,
    rule_finding,
)
from cos_xl.rules.inputs import excel_message
from cos_xl.spec import load_form
from cos_xl.validate import SAFETY_CODES

PACKAGE = Path(__file__).resolve().parent.parent / "cos_xl"
CATALOGUE = PACKAGE / "findings_catalogue.py"
#: Reads stored findings back (the ledger's JSON): no finding is made there.
READS_BACK = PACKAGE / "ledger" / "records.py"
#: The modules that emit findings.
EMITTERS = [*sorted((PACKAGE / "validate").rglob("*.py")),
            *sorted((PACKAGE / "rules").glob("*.py")),
            PACKAGE / "ledger" / "intake.py", PACKAGE / "submission.py", PACKAGE / "udf_core.py"]
#: a severity as an argument (Finding's second), assigned, or looked up by its name
SEVERITY_TYPED = re.compile(r""",\s*["'](?:error|warning|info)["']\s*[,)]"""
                            r"""|SEVERITY_RU\[["']|severity\w*\s*=\s*["']"""
                            r"""|=\s*["'](?:error|warning|info)["']\s*,\s*f?["']""")
#: finding("code", "variant", ...) and ZipCheck.add("code", "variant", ...)
CALL_WITH_VARIANT = re.compile(r"""(?:\bfinding|\.add)\(\s*"([a-z0-9-]+)",\s*"([a-z_]+)"[,)]""")
#: finding("code", "a" if ... else "b", ...) and the like: every quoted word in the call's head
CALL_WITH_CHOICE = re.compile(
    r"""(?:\bfinding|\.add)\(\s*"([a-z0-9-]+)",\s*([^=\n]*?\bif\b[^=\n]*?),""")


def sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}


def test_findings_are_made_only_by_the_catalogue():
    makers = {path.relative_to(PACKAGE).as_posix() for path, text in sources().items()
              if re.search(r"\bFinding\(", text) and path not in (CATALOGUE, READS_BACK)}
    assert makers == set()


@pytest.mark.parametrize("path", EMITTERS, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_emitter_types_a_severity(path):
    text = re.sub(r"Literal\[[^\]]*\]", "", path.read_text(encoding="utf-8"))  # types
    assert not SEVERITY_TYPED.findall(text)


def test_every_code_is_declared_once_with_a_stage_a_severity_and_russian_words():
    text = CATALOGUE.read_text(encoding="utf-8")
    for code, declared in CODES.items():
        assert text.count(f'"{code}": ') == 1, code
        assert declared.stage in STAGES
        assert declared.severity in ("error", "warning", "info")
        for words in (declared.title, declared.message, *declared.variants.values()):
            # "{detail}": the reader's or the form loader's own Russian reason
            assert re.search("[А-Яа-я]", words) or words == "{detail}", code


def test_every_template_is_a_format_string_and_every_variant_a_name():
    for code, declared in CODES.items():
        for template in (declared.message, *declared.variants.values()):
            fields = [name for _, name, _, _ in string.Formatter().parse(template) if name]
            assert all(re.fullmatch(r"[a-z_]+", name) for name in fields), (code, fields)
        assert all(re.fullmatch(r"[a-z_]+", variant) for variant in declared.variants), code


def test_every_variant_named_at_a_call_site_is_declared_and_every_declared_one_used():
    used: set[tuple[str, str]] = set()
    for text in sources().values():
        used |= set(CALL_WITH_VARIANT.findall(text))
        for code, head in CALL_WITH_CHOICE.findall(text):
            used |= {(code, variant) for variant in re.findall(r'"([a-z_]+)"', head)}
    declared = {(code, variant) for code, c in CODES.items() for variant in c.variants}
    assert used - declared == set()
    assert declared - used == set()


def test_finding_takes_severity_and_wording_from_the_registry():
    made = finding("sheet-unprotected", sheet="Данные")
    assert made == Finding("sheet-unprotected", "error", "С листа «Данные» снята защита.",
                           sheet="Данные")
    assert finding("zip-corrupt", "crc", value="a.xml", part="a.xml").message.startswith(
        "Архив книги повреждён: контрольная сумма части «a.xml» не совпадает.")
    with pytest.raises(KeyError):
        finding("sheet-unprotected")  # a value the message needs is missing
    with pytest.raises(KeyError):
        finding("no-such-code")


def test_safety_codes_are_the_file_stage_of_the_registry():
    assert SAFETY_CODES == codes_of("файл")
    assert SAFETY_CODES["zip-hidden-data"] == ("warning", "Посторонние данные в архиве книги")


def test_an_explained_warning_of_a_form_rule_is_information_quoting_the_explanation():
    form = load_form()
    warning = next(rule for rule in form.rules if rule.severity == "warning")
    error = next(rule for rule in form.rules if rule.severity == "error")
    plain = rule_finding(warning, "Проверьте.", None, sheet="Данные", cell="E5", value=1)
    assert (plain.code, plain.severity, plain.message, plain.rule_id, plain.name) == (
        warning.code, "warning", "Проверьте.", warning.id, warning.target)
    explained = rule_finding(warning, "Проверьте.", "так и есть")
    assert explained.severity == EXPLAINED["warning"] == "info"
    assert explained.message == "Проверьте. Пояснение региона: «так и есть»."
    assert rule_finding(error, "Ошибка.", "так и есть").severity == "error"


def test_the_rest_of_a_code_is_one_finding_of_its_code_and_severity():
    rest = more_like(finding("validation-removed", sheet="Данные", cell="E5"), 20)
    assert (rest.code, rest.severity, rest.sheet, rest.cell) == (
        "validation-removed", "warning", None, None)
    assert rest.message == "… и другие такие же расхождения (показаны первые 20)."


@pytest.mark.parametrize("code", ["value-missing", "value-as-text", "value-negative",
                                  "value-fraction", "email-invalid", "phone-invalid"])
def test_input_messages_compile_to_the_same_words_in_excel(code):
    """The Excel side joins the same pieces: the label, the words, the cell for {shown}."""
    formula = excel_message(code, "стр. 1.1", "Данные!E5")
    pieces = re.findall(r'"((?:[^"]|"")*)"|(Данные!E5)', formula)
    text = "".join(literal.replace('""', '"') if literal else "Х" for literal, _ in pieces)
    assert text == message(code, label="стр. 1.1", shown="Х", min_digits=10)
