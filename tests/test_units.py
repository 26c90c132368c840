"""One level down: the units file, a unit's workbook (generated, validated, tampered with) and
the regional rollup with its sheet «Свод по МО», without an office program (the LibreOffice
round is in test_units_libreoffice.py)."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cos_xl.campaign import Campaign
from cos_xl.fill import fill_workbook, read_manifest
from cos_xl.demo.units import sample_unit, synthetic_units, unit_shares, units_csv
from cos_xl.xlsxpatch import Constant, XlsxPackage
from cos_xl.generate import GenerateError, generate, template_context
from cos_xl.ledger import open_ledger
from cos_xl.periods import Period
from cos_xl.regions import get_region
from cos_xl.rollup.layout import FIRST_UNIT_ROW, MARKER, MARKER_ROW, ROLLUP_SHEET
from cos_xl.rollup.run import RollupError, UnitsMissing, rollup
from cos_xl.signing import resolve_key
from cos_xl.spec import load_form
from cos_xl.template.batch import PeriodBatch
from cos_xl.template.builder import build_workbook
from cos_xl.units import Unit, UnitsError, load_units, parse_units
from cos_xl.validate.run import validate_file
from cos_xl.validate.safety import SafetyLimits
from helpers import DEV_KEY, cos_xl, one_line_error

FORM = load_form()
REGION = get_region("77")
PERIOD = "2020Q4"
TEXTS = {"resp_name": "Иванова Мария Петровна", "resp_position": "Консультант отдела",
         "resp_phone": "+7 (495) 123-45-67", "resp_email": "ivanova@edu.example.ru"}
CAMPAIGN = Campaign(rollup=TEXTS)
OTHER_KEY = resolve_key(None, dev_key=False, env={"COS_XL_SIGNING_KEY": "x" * 64})


# -- the units file ---------------------------------------------------------------------------

def test_a_units_file_is_read_with_quotes_bom_and_blank_lines():
    data = ("\ufeffunit_id,name,kind\n"
            '45000001,"МО ""Город"", пример",municipality\n\n'
            "7701000001,  ГБОУ  Школа № 1 ,Organisation\n").encode("utf-8")
    units = parse_units(data, "units.csv")
    assert units == (Unit("45000001", "МО \"Город\", пример", "municipality"),
                     Unit("7701000001", "ГБОУ Школа № 1", "organisation"))


@pytest.mark.parametrize(("text", "words"), [
    ("unit_id,name,kind\n1,А,municipality\n1,Б,municipality\n",
     "строка 3: unit_id «1» уже был в строке 2"),
    ("unit_id,name,kind\n1,,municipality\n", "строка 2: пустое название у «1»"),
    ("unit_id,name,kind\nМО 1,А,municipality\n", "строка 2: unit_id «МО 1» недопустим"),
    ("unit_id,name,kind\n.hidden,А,municipality\n", "недопустим"),
    ("unit_id,name,kind\n" + "9" * 33 + ",А,municipality\n", "недопустим"),
    ("unit_id,name,kind\n1,А,school\n", "kind «school» у «1»"),
    ("unit_id,name,kind\n1,А\n", "нужно 3 поля"),
    ("id,title,type\n1,А,municipality\n", "строка 1: заголовок должен быть «unit_id,name,kind»"),
    ("unit_id;name;kind\n1;А;municipality\n", "разделитель — «;»"),
    ("", "файл пуст"),
    ("unit_id,name,kind\n", "только заголовок"),
    ('unit_id,name,kind\n1,"А,municipality\n', "CSV не разбирается"),
])
def test_a_bad_units_file_says_where(text, words):
    with pytest.raises(UnitsError) as caught:
        parse_units(text.encode("utf-8"), "units.csv")
    assert "units.csv" in str(caught.value) and words in str(caught.value)


def test_every_bad_line_is_listed_at_once():
    text = "unit_id,name,kind\n1,,municipality\n1,Б,x\n2,В,municipality\n"
    message = str(pytest.raises(UnitsError, parse_units, text.encode(), "u.csv").value)
    assert "2 ошибки" in message and "строка 2" in message and "строка 3" in message


@pytest.mark.parametrize(("data", "words"), [
    ("unit_id,name,kind\n1,Школа,municipality\n".encode("cp1251"), "не в кодировке UTF-8"),
    ("unit_id,name,kind\n".encode("utf-16"), "не текстовый"),
    (b"PK\x03\x04" + b"\x00" * 40, "это книга Excel"),
    (b"a" * (10 * 1024 * 1024 + 1), "больше 10 МБ"),
])
def test_a_file_that_is_not_a_utf8_csv_is_refused(data, words):
    assert words in str(pytest.raises(UnitsError, parse_units, data, "u.csv").value)


def test_a_missing_units_file_is_named(tmp_path):
    assert str(tmp_path / "nope.csv") in str(
        pytest.raises(UnitsError, load_units, tmp_path / "nope.csv").value)


# -- a unit's workbook ------------------------------------------------------------------------

UNITS = synthetic_units(REGION, 3) + synthetic_units(REGION, 2, "organisation")


def test_the_skeleton_renders_every_unit_as_the_builder_does():
    ctx = template_context(FORM, Campaign(), Period.parse(PERIOD), REGION)
    for kind in ("municipality", "organisation"):
        batch = PeriodBatch(dataclasses.replace(ctx, unit=Unit("x", "y", kind)), DEV_KEY)
        for unit in [u for u in UNITS if u.kind == kind] + [
                Unit("z-1.b", "Имя & <знаки> «кавычки»", kind)]:
            full, _ = build_workbook(dataclasses.replace(ctx, unit=unit), DEV_KEY)
            assert batch.render_unit(unit) == full, unit
        clash = Unit("77", "y", kind)  # the unit id equals the region code: one shared string
        assert batch.render_unit(clash) is None


def test_generate_writes_one_signed_workbook_per_unit(tmp_path):
    result = generate(PERIOD, tmp_path, DEV_KEY, regions=["77"], units=UNITS)
    assert [p.name for p in result.paths] == [f"cos_{PERIOD}_77_{u.unit_id}.xlsm" for u in UNITS]
    manifest = read_manifest(result.paths[0].read_bytes())
    assert manifest["level"] == "unit" and manifest["unit"] == UNITS[0].as_dict()
    assert manifest["template_id"] == f"cos_2020:{PERIOD}:77:{UNITS[0].unit_id}"
    assert manifest["contact"]["name"] == f"Орган управления образованием: {REGION.full_name}"
    title = openpyxl.load_workbook(result.paths[3])["Титул"]
    texts = [cell.value for row in title.iter_rows() for cell in row if cell.value]
    assert "Организация" in texts and UNITS[3].name in texts and UNITS[3].unit_id in texts


@pytest.mark.parametrize("regions", [None, ["77", "50"]])
def test_units_are_generated_for_one_region(tmp_path, regions):
    with pytest.raises(GenerateError, match="одного субъекта"):
        generate(PERIOD, tmp_path, DEV_KEY, regions=regions, units=UNITS)


@pytest.fixture(scope="module")
def unit_books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("units")
    return generate(PERIOD, folder, DEV_KEY, regions=["77"], units=UNITS).paths


def filled(path: Path, folder: Path, values: dict | None = None) -> Path:
    unit = next(u for u in UNITS if path.name.endswith(f"_{u.unit_id}.xlsm"))
    values = values or sample_unit(REGION, PERIOD, unit_shares(UNITS)[unit.unit_id])
    out = folder / path.name
    out.write_bytes(fill_workbook(path.read_bytes(), values))
    return out


def test_a_filled_unit_workbook_passes_and_names_its_unit(unit_books, tmp_path):
    result = validate_file(filled(unit_books[0], tmp_path), DEV_KEY, allow_dev_key=True)
    assert result.verdict == "PASS", result.findings
    assert (result.region_code, result.unit_id) == ("77", UNITS[0].unit_id)


def test_a_unit_workbook_is_checked_with_the_regions_key(unit_books, tmp_path):
    result = validate_file(filled(unit_books[0], tmp_path), OTHER_KEY, allow_dev_key=True)
    assert [f.code for f in result.findings] == ["manifest-signature-invalid"]


def test_another_units_name_typed_on_the_title_sheet_fails(unit_books, tmp_path):
    path = filled(unit_books[0], tmp_path)
    book = XlsxPackage(path.read_bytes())
    manifest = json.loads(book.manifest_text())
    cell = next(ref for ref in ("B4", "B3", "B5")
                if book.cell_text(f"Титул!{ref}") == UNITS[0].name)
    book.set_cells({f"Титул!{cell}": Constant(UNITS[1].name)})
    path.write_bytes(book.to_bytes())
    result = validate_file(path, DEV_KEY, allow_dev_key=True)
    assert result.verdict == "FAIL"
    assert ("label-changed", "Титул", cell) in {(f.code, f.sheet, f.cell) for f in result.findings}
    assert manifest["unit"]["name"] == UNITS[0].name


# -- the rollup -------------------------------------------------------------------------------

@pytest.fixture()
def round_(tmp_path, unit_books):
    """A ledger with the units registered and every unit's return taken (the first twice:
    version 2 has other figures), and the region's federal template."""
    db = str(tmp_path / "units.sqlite")
    returned = tmp_path / "returned"
    returned.mkdir()
    with open_ledger(db, create=True) as ledger:
        ledger.register_units(PERIOD, "77", UNITS, CAMPAIGN, DEV_KEY)
        paths = [filled(p, returned) for p in unit_books]
        outcomes = ledger.intake(paths, DEV_KEY, allow_dev_key=True)
        assert [o.verdict for o in outcomes] == ["PASS"] * len(UNITS)
        again = tmp_path / "again"
        again.mkdir()
        second = sample_unit(REGION, PERIOD, 0.05)
        assert ledger.intake([filled(unit_books[0], again, second)], DEV_KEY,
                             allow_dev_key=True)[0].version == 2
    template = generate(PERIOD, tmp_path / "federal", DEV_KEY, regions=["77"]).paths[0]
    return db, template, tmp_path


def unit_values(db: str) -> dict[str, dict]:
    with open_ledger(db) as ledger:
        return {u: dict(s.values) for u, s in ledger.latest_accepted_units(PERIOD, "77").items()}


def test_rollup_fills_the_template_with_the_sums_and_passes(round_):
    db, template, tmp = round_
    with open_ledger(db) as ledger:
        result = rollup(ledger, PERIOD, "77", template, tmp / "out")
    assert result.verdict == "PASS" and not result.table.missing
    counts = [i.id for i in FORM.inputs if i.kind == "count"]
    values = unit_values(db)
    assert values[UNITS[0].unit_id]["students_go"] == sample_unit(REGION, PERIOD, 0.05)[
        "students_go"]  # version 2 counts, not version 1
    checked = validate_file(result.path, DEV_KEY, allow_dev_key=True)
    assert checked.verdict == "PASS", checked.findings
    assert [f.code for f in checked.findings] == ["rollup-sheet"]
    for input_id in counts:
        assert checked.values[input_id] == sum(v[input_id] for v in values.values()), input_id
    for input_id, text in TEXTS.items():
        assert checked.values[input_id] == text
    # signed and locked as issued: the manifest is the template's, byte for byte
    assert XlsxPackage(result.path.read_bytes()).manifest_text() == \
        XlsxPackage(template.read_bytes()).manifest_text()


def test_the_rollup_sheet_lists_every_unit_with_version_and_digest(round_):
    db, template, tmp = round_
    with open_ledger(db) as ledger:
        result = rollup(ledger, PERIOD, "77", template, tmp / "out")
        latest = ledger.latest_accepted_units(PERIOD, "77")
    book = openpyxl.load_workbook(result.path)
    assert book.sheetnames[-1] == ROLLUP_SHEET
    sheet = book[ROLLUP_SHEET]
    assert sheet.cell(MARKER_ROW, 1).value == MARKER and sheet.row_dimensions[MARKER_ROW].hidden
    rows = list(sheet.iter_rows(min_row=FIRST_UNIT_ROW, values_only=True))
    by_code = {row[1]: row for row in rows if row[1]}
    assert set(by_code) == {u.unit_id for u in UNITS}
    first = by_code[UNITS[0].unit_id]
    assert first[2] == UNITS[0].name and first[4] == "принят" and first[5] == 2
    assert first[-1] == latest[UNITS[0].unit_id].sha256
    total = rows[len(UNITS)]
    assert total[2] == "Итого"
    data = book["Данные"]
    manifest = read_manifest(result.path.read_bytes())
    cell = manifest["inputs"]["students_go"].split("!")[1]
    assert data[cell].value in total


def test_missing_units_stop_the_rollup_and_nothing_is_written(round_, unit_books):
    db, template, tmp = round_
    extra = Unit("77999999", "Муниципальный район «Поздний» (синтетическое)", "municipality")
    with open_ledger(db) as ledger:
        ledger.register_units(PERIOD, "77", [extra], CAMPAIGN, DEV_KEY)
        with pytest.raises(UnitsMissing, match="77999999"):
            rollup(ledger, PERIOD, "77", template, tmp / "out")
        assert not (tmp / "out").exists()
        result = rollup(ledger, PERIOD, "77", template, tmp / "out", allow_missing=True)
    assert [row.unit.unit_id for row in result.table.missing] == ["77999999"]
    checked = validate_file(result.path, DEV_KEY, allow_dev_key=True)
    assert checked.verdict == "PASS_WITH_WARNINGS"
    warning = next(f for f in checked.findings if f.code == "rollup-units-missing")
    assert "1 из 6" in warning.message and "77999999" in warning.message
    sheet = openpyxl.load_workbook(result.path)[ROLLUP_SHEET]
    assert "НЕПОЛНЫЙ" in sheet["A4"].value


def test_a_figure_changed_after_the_rollup_is_reported(round_):
    db, template, tmp = round_
    with open_ledger(db) as ledger:
        result = rollup(ledger, PERIOD, "77", template, tmp / "out")
    manifest = read_manifest(result.path.read_bytes())
    book = XlsxPackage(result.path.read_bytes())
    book.set_cells({manifest["inputs"]["students_go"]: Constant(
        validate_file(result.path, DEV_KEY, allow_dev_key=True).values["students_go"] + 1000)})
    result.path.write_bytes(book.to_bytes())
    checked = validate_file(result.path, DEV_KEY, allow_dev_key=True)
    found = [f for f in checked.findings if f.code == "rollup-total-differs"]
    sheet, cell = manifest["inputs"]["students_go"].split("!")
    assert [(f.sheet, f.cell) for f in found] == [(sheet, cell)]
    assert "Свод по МО" in found[0].message


def _edit_rollup_sheet(path: Path, change) -> None:
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    part = max((n for n in src.namelist() if n.startswith("xl/worksheets/sheet")),
               key=lambda n: int(n.rsplit("sheet", 1)[1].split(".")[0]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == part else data)
    path.write_bytes(out.getvalue())


def test_a_formula_on_the_rollup_sheet_fails(round_):
    db, template, tmp = round_
    with open_ledger(db) as ledger:
        result = rollup(ledger, PERIOD, "77", template, tmp / "out")
    _edit_rollup_sheet(result.path, lambda xml: xml.replace(
        b'<c r="A1" ', b'<c r="A1" t="str" ><f>1+1</f><v>2</v></c><c r="Z1" ', 1))
    checked = validate_file(result.path, DEV_KEY, allow_dev_key=True)
    assert "rollup-sheet-invalid" in [f.code for f in checked.findings]
    assert checked.verdict == "FAIL"


def test_a_sheet_of_that_name_without_the_marker_is_an_added_sheet(round_):
    db, template, tmp = round_
    with open_ledger(db) as ledger:
        result = rollup(ledger, PERIOD, "77", template, tmp / "out")
    _edit_rollup_sheet(result.path, lambda xml: xml.replace(MARKER.encode(), b"my own sheet"))
    checked = validate_file(result.path, DEV_KEY, allow_dev_key=True)
    assert "sheets-changed" in [f.code for f in checked.findings]


@pytest.mark.parametrize("case", ["no texts", "unit template", "other region", "same folder",
                                  "not a workbook"])
def test_rollup_refuses_what_it_cannot_do_and_writes_nothing(round_, unit_books, case):
    db, template, tmp = round_
    out = tmp / "out"
    kwargs = {}
    if case == "no texts":
        kwargs["campaign"] = Campaign()
        words = "Не заданы тексты отчёта субъекта"
    elif case == "unit template":
        template, words = unit_books[0], "это шаблон МО/организации"
    elif case == "other region":
        template = generate(PERIOD, tmp / "fed50", DEV_KEY, regions=["50"]).paths[0]
        words = "шаблон выдан на 50"
    elif case == "same folder":
        out, words = template.parent, "в другую папку"
    else:
        template = tmp / "letter.xlsm"
        template.write_bytes(b"%PDF-1.4 not a workbook")
        words = "не шаблон cos-xl"
    with open_ledger(db) as ledger, pytest.raises(RollupError, match=words):
        rollup(ledger, PERIOD, "77", template, out, **kwargs)
    if case != "same folder":
        assert not out.exists()


def test_the_cli_round_of_a_region(round_, tmp_path):
    db, template, tmp = round_
    config = tmp / "region.toml"
    config.write_text("[rollup]\n" + "".join(f'{k} = "{v}"\n' for k, v in TEXTS.items()),
                      encoding="utf-8")

    done = cos_xl("rollup", "--period", PERIOD, "--region", "77", "--template", str(template),
                  "--out", str(tmp / "cli"), "--db", db, "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "проходит проверку" in done.stdout and (tmp / "cli" / template.name).is_file()
    status = cos_xl("status", "--period", PERIOD, "--region", "77", "--db", db)
    assert status.returncode in (0, 1), status.stderr
    assert UNITS[0].unit_id in status.stdout
    missing = cos_xl("rollup", "--period", PERIOD, "--region", "77", "--template",
                     str(tmp / "nope.xlsm"), "--out", str(tmp / "cli2"), "--db", db)
    assert missing.returncode == 2 and "nope.xlsm" in missing.stdout + missing.stderr
    units_file = tmp / "units.csv"
    units_file.write_text(units_csv(UNITS), encoding="utf-8")
    typo = cos_xl("generate", "--period", PERIOD, "--units", str(units_file), "--out",
                  str(tmp / "g"), "--dev-key")
    assert typo.returncode == 2 and "--region" in typo.stdout + typo.stderr


# -- hostile unit files: the regional verdicts ------------------------------------------------

@pytest.fixture(scope="module")
def unit_templates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    one = UNITS[3:4]
    xlsm = generate(PERIOD, folder / "m", DEV_KEY, regions=["77"], units=one).paths[0]
    xlsx = generate(PERIOD, folder / "x", DEV_KEY, regions=["77"], units=one,
                    macros=False).paths[0]
    return {"xlsm": xlsm.read_bytes(), "xlsx": xlsx.read_bytes()}


def _hostile_cases():
    from test_safety import CORPUS
    # too_large_sparse is a 2 GiB sparse copy of any template: covered at the regional level
    return sorted(name for name, (_b, _c, limits) in CORPUS.items()
                  if limits == SafetyLimits() and name != "too_large_sparse")


@pytest.mark.parametrize("case", _hostile_cases())
def test_a_hostile_unit_file_is_refused_into_the_units_ledger(case, unit_templates, tmp_path):
    """Built from a unit's workbook as the safety corpus builds them from a region's: the
    region's intake keeps it as an unattributed FAIL with the same code, and never crashes."""
    from test_safety import CORPUS
    builder, code, _limits = CORPUS[case]
    name, data = builder(unit_templates)
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(data)
    result = validate_file(path, DEV_KEY, allow_dev_key=True)
    assert result.verdict == "FAIL" and code in [f.code for f in result.findings]
    with open_ledger(str(tmp_path / "u.sqlite"), create=True) as ledger:
        outcome = ledger.intake([path], DEV_KEY, allow_dev_key=True)[0]
        assert outcome.verdict == "FAIL" and outcome.status in ("new", "skipped", "error")
        assert ledger.latest_accepted_units(PERIOD, "77") == {}
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == [name]


# -- the shipped synthetic units and the demo of a region's round ------------------------------

@pytest.mark.parametrize("code", ["77", "16", "54"])
def test_the_shipped_units_are_the_synthetic_ones_and_say_so(code):
    from cos_xl.demo.units_round import shipped_units
    units = load_units(shipped_units(code))
    kind = units[0].kind
    assert units == synthetic_units(get_region(code), len(units), kind)
    assert all("синтетическ" in unit.name for unit in units)


def test_demo_units_runs_a_regions_round_through_the_cli(tmp_path):
    out = tmp_path / "demo"
    done = cos_xl("demo", "--units", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Свод без 77000012 не собирается" in done.stdout
    assert "Учтено: 12 из 12" in done.stdout and "проверка: PASS" in done.stdout
    rolled = out / "rollup" / "cos_2020Q3_77.xlsm"
    checked = validate_file(rolled, DEV_KEY, allow_dev_key=True)
    assert checked.verdict == "PASS" and [f.code for f in checked.findings] == ["rollup-sheet"]


def test_a_unit_name_like_a_formula_stays_text_everywhere(tmp_path):
    sly = Unit("77-x", '=HYPERLINK("http://evil.example","Нажмите")', "organisation")
    book = generate(PERIOD, tmp_path, DEV_KEY, regions=["77"], units=[sly]).paths[0]
    title = openpyxl.load_workbook(book)["Титул"]
    cells = [c for row in title.iter_rows() for c in row if c.value == sly.name]
    assert cells and all(c.data_type == "s" for c in cells)
    result = validate_file(filled_with(book, tmp_path / "f"), DEV_KEY, allow_dev_key=True)
    assert result.verdict == "PASS", result.findings


def filled_with(book: Path, folder: Path) -> Path:
    folder.mkdir()
    out = folder / book.name
    out.write_bytes(fill_workbook(book.read_bytes(), sample_unit(REGION, PERIOD, 0.1)))
    return out


def test_a_unit_with_only_rejected_versions_is_not_counted_and_says_so(round_, unit_books):
    db, template, tmp = round_
    extra = Unit("77888888", "Муниципальный район «Ошибочный» (синтетическое)", "municipality")
    with open_ledger(db) as ledger:
        ledger.register_units(PERIOD, "77", [extra], CAMPAIGN, DEV_KEY)
        book = generate(PERIOD, tmp / "extra", DEV_KEY, regions=["77"], units=[extra]).paths[0]
        wrong = tmp / "wrong"
        wrong.mkdir()
        (wrong / book.name).write_bytes(fill_workbook(book.read_bytes(), dict(
            sample_unit(REGION, PERIOD, 0.01), students_go="1 234")))
        assert ledger.intake([wrong / book.name], DEV_KEY, allow_dev_key=True)[0].verdict == "FAIL"
        with pytest.raises(UnitsMissing, match="77888888 .*: отклонён"):
            rollup(ledger, PERIOD, "77", template, tmp / "out")
        result = rollup(ledger, PERIOD, "77", template, tmp / "out", allow_missing=True)
    states = {row.unit.unit_id: row.state for row in result.table.rows}
    assert states["77888888"] == "отклонён" and list(states.values()).count("принят") == 5


def test_a_rolled_up_return_is_an_ordinary_return_for_the_federal_round(round_):
    from cos_xl.consolidate.ledger_inputs import consolidation_inputs
    db, template, tmp = round_
    with open_ledger(db) as ledger:
        result = rollup(ledger, PERIOD, "77", template, tmp / "out")
    sums = {i: sum(v[i] for v in unit_values(db).values())
            for i in ("students_go", "e403_go")}
    with open_ledger(str(tmp / "federal.sqlite"), create=True) as federal:
        outcome = federal.intake([result.path], DEV_KEY, allow_dev_key=True)[0]
        assert (outcome.verdict, outcome.region_code, outcome.version) == ("PASS", "77", 1)
        accepted, rejected = consolidation_inputs(federal, PERIOD)
    assert list(accepted) == ["77"] and not rejected
    assert {i: accepted["77"].values[i] for i in sums} == sums


@pytest.mark.parametrize("command", ["status", "consolidate"])
def test_federal_commands_on_a_regions_units_ledger_say_so(round_, command):
    db, _template, tmp = round_
    args = ["--period", PERIOD, "--db", db]
    if command == "consolidate":
        args += ["--out", str(tmp / "national.xlsx")]
    said = one_line_error(cos_xl(command, *args))
    assert "только сбор с МО/организаций субъекта 77" in said and "--region 77" in said
    assert not (tmp / "national.xlsx").exists()


def test_the_annotated_copy_of_a_units_return_names_the_unit_and_is_accepted_fixed(
        unit_books, tmp_path):
    from cos_xl.validate.annotate import annotate
    values = sample_unit(REGION, PERIOD, 0.2)
    wrong = filled(unit_books[1], tmp_path, dict(values, students_go="1 234 567"))
    result = validate_file(wrong, DEV_KEY, allow_dev_key=True)
    assert [f.code for f in result.findings] == ["value-as-text"]
    copy = annotate(result, tmp_path / "back", DEV_KEY)
    sheet = openpyxl.load_workbook(copy)["Замечания"]
    assert sheet["A2"].value.startswith(f"МО: {UNITS[1].name} (код {UNITS[1].unit_id}); субъект:")
    fixed = tmp_path / "fixed.xlsm"
    book = XlsxPackage(copy.read_bytes())
    book.set_cells({f"{result.findings[0].sheet}!{result.findings[0].cell}":
                    Constant(values["students_go"])})
    fixed.write_bytes(book.to_bytes())
    again = validate_file(fixed, DEV_KEY, allow_dev_key=True)
    assert again.verdict == "PASS" and again.unit_id == UNITS[1].unit_id, again.findings


def test_the_largest_units_file_fits_the_rollup_sheet_within_the_intake_limits():
    """MAX_UNITS units with 9-digit figures and long names: «Свод по МО» stays under the part
    size the intake accepts; one unit more is refused when the list is read."""
    import datetime as dt
    import hashlib

    from cos_xl.rollup.sheet import STYLES, Figure, RollupTable, UnitRow, sheet_xml
    from cos_xl.units import MAX_UNITS
    from cos_xl.validate.safety import SafetyLimits
    figures = tuple(Figure(i.id, "1.1", i.short) for i in FORM.inputs if i.kind == "count")
    units = [Unit(f"{n:032d}", "Н" * 120, "organisation") for n in range(MAX_UNITS)]
    now = dt.datetime.now(dt.UTC)
    rows = tuple(UnitRow(u, "принят с предупреждениями", 99, now,
                         hashlib.sha256(u.unit_id.encode()).hexdigest(),
                         {f.input_id: 123_456_789 for f in figures}) for u in units)
    xml = sheet_xml(RollupTable(REGION, Period.parse(PERIOD), now, "cos-xl", figures, rows,
                                {f.input_id: 10 ** 12 for f in figures}),
                    {name: 100 + i for i, name in enumerate(STYLES)})
    assert len(xml) < SafetyLimits().max_xml_part_size
    text = "unit_id,name,kind\n" + "".join(f"{n},Школа,organisation\n"
                                           for n in range(MAX_UNITS + 1))
    assert f"больше {MAX_UNITS}" in str(pytest.raises(UnitsError, parse_units, text.encode()).value)
