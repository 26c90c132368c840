"""The municipal round end to end through LibreOffice: three units fill their workbooks and save
them in LibreOffice, one sends a corrected version, the region takes them into its ledger and
rolls up; the regional workbook, opened in LibreOffice, shows indicators equal to a
recomputation from the units' figures written here from the methodology, and the validator
passes it with the federal key."""

from __future__ import annotations

import pytest

from cos_xl.campaign import Campaign
from cos_xl.demo.units import sample_unit, synthetic_units, unit_shares
from cos_xl.generate import generate
from cos_xl.ledger import open_ledger
from cos_xl.regions import get_region
from cos_xl.rollup.run import rollup
from cos_xl.spec import load_form
from cos_xl.validate.run import validate_file
from helpers import DEV_KEY

pytestmark = pytest.mark.libreoffice
FORM = load_form()
REGION = get_region("77")
PERIOD = "2020Q4"
TEXTS = {"resp_name": "Петров Пётр Петрович", "resp_position": "Главный специалист",
         "resp_phone": "+7 (495) 765-43-21", "resp_email": "petrov@edu.example.ru"}
# The indicators of the letter ГД-1452/04 (METHODOLOGY.md), written out independently of the
# form specification: share = numerator / denominator × 100, count = the figure itself.
STUDENTS = ("students_go", "students_do", "students_spo")
SHARES = {
    "IND_E4_03": (("e403_go", "e403_do", "e403_spo"), STUDENTS),
    "IND_E4_04": (("e404_go", "e404_do", "e404_spo"), STUDENTS),
    "IND_E4_05": (("e405_go", "e405_do", "e405_spo"), ("orgs_go", "orgs_do", "orgs_spo")),
    "IND_E4_07": (("e407_go", "e407_spo"), ("students_go", "students_spo")),
    "IND_E4_08": (("e408_go",), ("teachers_go",)),
    "IND_E4_01_05": (("e40105_go", "e40105_do"), ("orgs_go", "orgs_do")),
}
COUNTS = {"IND_E4_01_07": "e40107", "IND_E4_01_11": "e40111_students"}


def type_in(office, template, target, values):
    """What a person does: open the unit's workbook, type the figures, save (as .xlsm)."""
    office.process(template, set_values={FORM.excel_name(k): v for k, v in values.items()},
                   save_as=target)
    return target


def test_three_units_fill_in_libreoffice_and_the_region_rolls_up(office, tmp_path):
    units = synthetic_units(REGION, 3)
    shares = unit_shares(units)
    db = str(tmp_path / "region77.sqlite")
    with open_ledger(db, create=True) as ledger:
        ledger.register_units(PERIOD, "77", units, Campaign(rollup=TEXTS), DEV_KEY)
    books = generate(PERIOD, tmp_path / "issued", DEV_KEY, regions=["77"], units=units).paths
    (tmp_path / "sent").mkdir()
    typed = {u.unit_id: sample_unit(REGION, PERIOD, shares[u.unit_id]) for u in units}
    sent = [type_in(office, book, tmp_path / "sent" / book.name, typed[u.unit_id])
            for u, book in zip(units, books, strict=True)]
    # the second unit finds a mistake and sends a corrected file
    corrected = dict(typed[units[1].unit_id], students_go=typed[units[1].unit_id]["students_go"]
                     + 1234, e403_go=typed[units[1].unit_id]["e403_go"] + 1000)
    (tmp_path / "again").mkdir()
    resent = type_in(office, books[1], tmp_path / "again" / books[1].name, corrected)
    typed[units[1].unit_id] = corrected
    with open_ledger(db) as ledger:
        first = ledger.intake(sent, DEV_KEY, allow_dev_key=True)
        assert [o.verdict for o in first] == ["PASS"] * 3, [o.message for o in first]
        second = ledger.intake([resent], DEV_KEY, allow_dev_key=True)
        assert (second[0].verdict, second[0].version) == ("PASS", 2)
        template = generate(PERIOD, tmp_path / "federal", DEV_KEY, regions=["77"]).paths[0]
        result = rollup(ledger, PERIOD, "77", template, tmp_path / "rolled")
    assert result.verdict == "PASS"
    assert {row.unit.unit_id: row.version for row in result.table.rows} == {
        units[0].unit_id: 1, units[1].unit_id: 2, units[2].unit_id: 1}

    total = {name: sum(values[name] for values in typed.values())
             for name in typed[units[0].unit_id] if isinstance(typed[units[0].unit_id][name], int)}
    shown = office.process(result.path, read=[*SHARES, *COUNTS, *(
        FORM.excel_name(name) for name in ("students_go", "e403_go"))])
    for name, (numerator, denominator) in SHARES.items():
        wanted = sum(total[n] for n in numerator) / sum(total[d] for d in denominator) * 100
        assert shown[name] == pytest.approx(wanted, abs=1e-9), name
    for name, figure in COUNTS.items():
        assert shown[name] == total[figure], name
    assert shown[FORM.excel_name("students_go")] == total["students_go"]

    checked = validate_file(result.path, DEV_KEY, allow_dev_key=True)
    assert checked.verdict == "PASS", checked.findings
    assert [f.code for f in checked.findings] == ["rollup-sheet"]
    # opened and saved again in LibreOffice (the region checks it before sending): still PASS
    office.process(result.path, save_as=tmp_path / "resaved.xlsm")
    again = validate_file(tmp_path / "resaved.xlsm", DEV_KEY, allow_dev_key=True)
    assert again.verdict == "PASS", again.findings
    assert "rollup-sheet" in [f.code for f in again.findings]


def test_the_rollup_fills_a_template_the_region_opened_and_saved_in_libreoffice(office, tmp_path):
    """The coordinator opened the federal template in LibreOffice to look, and saved it."""
    from cos_xl.fill import fill_workbook
    units = synthetic_units(REGION, 2)
    db = str(tmp_path / "region77.sqlite")
    books = generate(PERIOD, tmp_path / "issued", DEV_KEY, regions=["77"], units=units).paths
    (tmp_path / "sent").mkdir()
    sent = []
    for unit, book in zip(units, books, strict=True):
        sent.append(tmp_path / "sent" / book.name)
        sent[-1].write_bytes(fill_workbook(book.read_bytes(), sample_unit(REGION, PERIOD, 0.3)))
    template = generate(PERIOD, tmp_path / "federal", DEV_KEY, regions=["77"]).paths[0]
    (tmp_path / "looked").mkdir()
    looked = tmp_path / "looked" / template.name
    office.process(template, save_as=looked)
    with open_ledger(db, create=True) as ledger:
        ledger.register_units(PERIOD, "77", units, Campaign(rollup=TEXTS), DEV_KEY)
        assert [o.verdict for o in ledger.intake(sent, DEV_KEY, allow_dev_key=True)] == \
            ["PASS", "PASS"]
        result = rollup(ledger, PERIOD, "77", looked, tmp_path / "rolled")
    checked = validate_file(result.path, DEV_KEY, allow_dev_key=True)
    assert checked.verdict == "PASS", checked.findings
    assert checked.values["students_go"] == 2 * sample_unit(REGION, PERIOD, 0.3)["students_go"]


def test_a_warning_on_the_sums_is_explained_in_libreoffice_after_the_rollup(office, tmp_path):
    from cos_xl.demo.sample import target_not_met_rule
    from cos_xl.fill import fill_workbook, read_manifest
    units = synthetic_units(REGION, 2)
    books = generate(PERIOD, tmp_path / "issued", DEV_KEY, regions=["77"], units=units).paths
    (tmp_path / "sent").mkdir()
    sent = []
    for book in books:
        values = sample_unit(REGION, PERIOD, 0.3)
        values["e40105_go"] = values["orgs_go"] - 1  # one school's site is not complete
        sent.append(tmp_path / "sent" / book.name)
        sent[-1].write_bytes(fill_workbook(book.read_bytes(), values))
    template = generate(PERIOD, tmp_path / "federal", DEV_KEY, regions=["77"]).paths[0]
    with open_ledger(str(tmp_path / "r.sqlite"), create=True) as ledger:
        ledger.register_units(PERIOD, "77", units, Campaign(rollup=TEXTS), DEV_KEY)
        ledger.intake(sent, DEV_KEY, allow_dev_key=True)
        result = rollup(ledger, PERIOD, "77", template, tmp_path / "rolled")
    assert result.verdict == "PASS_WITH_WARNINGS"
    assert "target-not-met" in [f.code for f in result.findings]
    rule = target_not_met_rule(FORM)
    sheet, cell = read_manifest(result.path.read_bytes())["checks"][rule]["explanation"].split("!")
    explained = tmp_path / "explained.xlsm"
    office.process(result.path, set_values={f"'{sheet}'!{cell}": "Два сайта обновляются до 01.02"},
                   save_as=explained)
    checked = validate_file(explained, DEV_KEY, allow_dev_key=True)
    assert checked.verdict == "PASS", checked.findings
    assert {"rollup-sheet", "target-not-met"} <= {f.code for f in checked.findings}
