"""One level down in the ledger: the returns of a region's units (municipalities, organisations)
are kept beside the regions' own, numbered per unit, checked against the units issued, and never
seen by a federal reading (latest accepted, status, consolidation, previous figures); the unit
campaign; the status per unit through the real ``cos-xl status --region``. On SQLite and on
PostgreSQL (``COS_XL_TEST_PG_URL``; required under CI=true)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from helpers import DEV_KEY, one_line_error
from helpers import cos_xl as run_cli
from test_validate_values import CLEAN

from cos_xl.campaign import Campaign, PeriodSettings
from cos_xl.consolidate.ledger_inputs import consolidation_inputs
from cos_xl.fill import fill_workbook
from cos_xl.generate import generate
from cos_xl.ledger import LedgerError, Received, open_ledger
from cos_xl.ledger.db import _alembic_config, create_ledger_engine, writing
from cos_xl.ledger.db import ledger_url as to_url
from cos_xl.ledger.schema import metadata
from cos_xl.ledger.unit_status import NoUnitsError, unit_status
from cos_xl.signing import resolve_key
from cos_xl.units import Unit

PERIOD = "2020Q3"
UTC = dt.UTC
TOWN = Unit("45000000", "Город «Пример»", "municipality")
VILLAGE = Unit("45000001", "Сельское поселение", "municipality")
SCHOOL = Unit("7701234567", "ГБОУ Школа № 1", "organisation")
STRAY = Unit("45999999", "Не из списка", "municipality")
LOW_Q2 = {"e403_go": 100_000, "e403_do": 50_000, "e403_spo": 10_000, "e40107": 9_000}
WRONG = {"e403_go": 2_000_000}  # more than the pupils: an error


def received(region="77", unit="", version_bytes="a", verdict="PASS", period=PERIOD,
             moment=dt.datetime(2020, 10, 1, 9, tzinfo=UTC)) -> Received:
    sha = (version_bytes * 64)[:64]
    return Received(filename=f"{region}_{unit or 'own'}.xlsm", sha256=sha, size=1,
                    data=version_bytes.encode(), received_at=moment, verdict=verdict,
                    region_code=region, period=period, form_id="cos", form_version="1",
                    values={"students_go": 1}, unit_id=unit)


# --- migration 0004 --------------------------------------------------------------------------

def migrate(url: str, revision: str, down: bool = False) -> None:
    engine = create_ledger_engine(to_url(url))
    try:
        config = _alembic_config()
        with writing(engine, "schema") as conn:
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def rows(url: str, sql: str) -> list[tuple]:
    engine = create_ledger_engine(to_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_migration_0004_keeps_every_row_up_and_down(ledger_url):
    migrate(ledger_url, "0003")
    engine = create_ledger_engine(to_url(ledger_url))
    with engine.begin() as conn:  # a ledger of 0003 with a region's return and an unknown file
        conn.execute(sa.text("INSERT INTO blobs (sha256, size, data) VALUES ('a', 1, NULL)"))
        for region, period, version, verdict in (("'77'", "'2020Q3'", "1", "'PASS'"),
                                                 ("NULL", "NULL", "NULL", "'FAIL'")):
            conn.execute(sa.text(
                "INSERT INTO submissions (region_code, period, version, form_id, form_version, "
                "sha256, size, filename, received_at, verdict, findings, input_values, "
                f"explanations, tool_version) VALUES ({region}, {period}, {version}, 'f', '1', "
                f"'a', 1, 'x.xlsm', '2020-10-01 09:00:00', {verdict}, '[]', '{{}}', '{{}}', "
                "'0')"))
        conn.execute(sa.text("INSERT INTO receipts (submission_id, filename, received_at, "
                             "outcome) VALUES (1, 'x.xlsm', '2020-10-01 09:00:00', 'new')"))
    engine.dispose()

    with open_ledger(ledger_url) as ledger:  # opening migrates to 0004
        with ledger.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
            assert MigrationContext.configure(conn).get_current_heads() == ("0004",)
        (sub,) = ledger.submissions(PERIOD, "77")
        assert (sub.version, sub.unit_id) == (1, "")
        assert ledger.counts() == {"blobs": 1, "submissions": 2, "receipts": 1}
        assert ledger.unattributed_count() == 1
        ledger.record(received(unit=TOWN.unit_id, version_bytes="a"))  # same bytes, a unit
    assert rows(ledger_url, "SELECT submission_id, outcome FROM receipts ORDER BY id") == [
        (1, "new"), (3, "new")]

    with pytest.raises(LedgerError, match="нельзя вернуть"):  # a unit's return is kept
        migrate(ledger_url, "0003", down=True)
    with open_ledger(ledger_url) as ledger, ledger.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM receipts WHERE submission_id = 3"))
        conn.execute(sa.text("DELETE FROM submissions WHERE id = 3"))
    migrate(ledger_url, "0003", down=True)
    assert rows(ledger_url, "SELECT id, region_code, version FROM submissions ORDER BY id") == [
        (1, "77", 1), (2, None, None)]
    assert rows(ledger_url, "SELECT submission_id FROM receipts") == [(1,)]
    engine = create_ledger_engine(to_url(ledger_url))
    assert "unit_id" not in {c["name"] for c in sa.inspect(engine).get_columns("submissions")}
    assert "unit_campaigns" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    with open_ledger(ledger_url) as ledger:  # and up again
        assert ledger.counts()["submissions"] == 2


# --- versions per unit, and the federal readings ---------------------------------------------

def test_versions_and_identical_bytes_are_per_region_period_and_unit(ledger_url):
    with open_ledger(ledger_url, create=True) as ledger:
        recorded = [ledger.record(item) for item in (
            received(version_bytes="a"),                        # the region's own, v1
            received(unit=TOWN.unit_id, version_bytes="b"),     # the town, v1
            received(unit=TOWN.unit_id, version_bytes="c"),     # the town, v2
            received(unit=SCHOOL.unit_id, version_bytes="d"),   # the school, v1
            received(version_bytes="e"),                        # the region's own, v2
            received(unit=TOWN.unit_id, version_bytes="b"),     # the town's v1 again
            received(unit=SCHOOL.unit_id, version_bytes="b"),   # those bytes as the school's
        )]
        assert [(r.outcome, r.version, r.unit_id) for r in recorded] == [
            ("new", 1, ""), ("new", 1, TOWN.unit_id), ("new", 2, TOWN.unit_id),
            ("new", 1, SCHOOL.unit_id), ("new", 2, ""), ("duplicate", 1, TOWN.unit_id),
            ("new", 2, SCHOOL.unit_id)]
        assert [s.version for s in ledger.submissions(PERIOD, "77")] == [1, 2]
        assert [(s.unit_id, s.version) for s in ledger.unit_submissions(PERIOD, "77")] == [
            (TOWN.unit_id, 1), (TOWN.unit_id, 2), (SCHOOL.unit_id, 1), (SCHOOL.unit_id, 2)]
        assert [s.version for s in ledger.unit_submissions(PERIOD, "77", TOWN.unit_id)] == [1, 2]
        assert ledger.find("b" * 64).unit_id == TOWN.unit_id


def test_a_units_return_never_reaches_a_federal_reading(ledger_url):
    with open_ledger(ledger_url, create=True) as ledger:
        ledger.record(received("77", version_bytes="a"))
        ledger.record(received("50", TOWN.unit_id, "b"))  # region 50: only its units returned
        ledger.record(received("50", SCHOOL.unit_id, "c", verdict="PASS_WITH_WARNINGS"))
        ledger.record(received("50", SCHOOL.unit_id, "d", verdict="FAIL"))
        ledger.record(received("77", TOWN.unit_id, "e", verdict="FAIL"))
        ledger.record(received("50", TOWN.unit_id, "f", period="2021Q1"))  # units only

        assert list(ledger.latest_accepted(PERIOD)) == ["77"]
        assert [(s.region_code, s.unit_id) for s in ledger.submissions(PERIOD)] == [("77", "")]
        assert ledger.submissions(PERIOD, "50") == []
        assert [row[0] for row in ledger.overview(PERIOD)] == ["77"]
        assert list(ledger.previous_figures(PERIOD)) == ["77"]
        assert ledger.latest_accepted("2021Q1") == {} and "2021Q1" not in ledger.periods()
        accepted, rejected = consolidation_inputs(ledger, PERIOD)
        assert list(accepted) == ["77"] and rejected == {}  # 77's unit FAIL is not a rejection
        state = {r.region_code: r.state for r in ledger.status(PERIOD)}
        assert state["77"] == "accepted" and state["50"] == "not_received"

        units = ledger.latest_accepted_units(PERIOD, "50")
        assert {u: (s.version, s.verdict) for u, s in units.items()} == {
            SCHOOL.unit_id: (1, "PASS_WITH_WARNINGS"), TOWN.unit_id: (1, "PASS")}
        assert list(units) == sorted(units)
        assert ledger.latest_accepted_units(PERIOD, "77") == {}  # its town's one version failed
        assert [(u, v, verdict) for u, v, verdict, _ in ledger.unit_overview(PERIOD, "50")] == [
            (TOWN.unit_id, 1, "PASS"), (SCHOOL.unit_id, 1, "PASS_WITH_WARNINGS"),
            (SCHOOL.unit_id, 2, "FAIL")]


# --- the unit campaign -----------------------------------------------------------------------

def test_registering_units_adds_them_and_refuses_another_key(ledger_url):
    campaign = Campaign(periods={PERIOD: PeriodSettings(deadline=dt.date(2020, 10, 5))})
    with open_ledger(ledger_url, create=True) as ledger:
        assert ledger.unit_campaign(PERIOD, "77") is None
        first = ledger.register_units(PERIOD, "77", [TOWN, SCHOOL], campaign, DEV_KEY)
        assert [u.unit_id for u in first.units] == [TOWN.unit_id, SCHOOL.unit_id]
        renamed = Unit(TOWN.unit_id, "Город (новое название)", "municipality")
        again = ledger.register_units(PERIOD, "77", [VILLAGE, renamed], Campaign(), DEV_KEY)
        assert again.units == (renamed, VILLAGE, SCHOOL)
        assert again.campaign == Campaign() and again.key_fingerprint == DEV_KEY.fingerprint
        assert again.ids == {TOWN.unit_id, VILLAGE.unit_id, SCHOOL.unit_id}
        assert ledger.unit_campaign(PERIOD, "77") == again
        assert ledger.unit_campaign(PERIOD, "50") is None
        assert ledger.unit_campaign("2020Q4", "77") is None
        other = resolve_key(env={"COS_XL_SIGNING_KEY": "another federal key, 32 bytes!!"})
        with pytest.raises(LedgerError, match="другим ключом"):
            ledger.register_units(PERIOD, "77", [STRAY], campaign, other)
        with pytest.raises(LedgerError, match="две цифры"):
            ledger.register_units(PERIOD, "7x", [STRAY], campaign, DEV_KEY)
        assert STRAY.unit_id not in ledger.unit_campaign(PERIOD, "77").ids


# --- intake of real unit workbooks -----------------------------------------------------------

@pytest.fixture(scope="module")
def unit_templates(tmp_path_factory):
    """Unit workbooks of region 77 for 2020Q2 and 2020Q3 (development key), by period and id."""
    folder = tmp_path_factory.mktemp("unit-templates")
    found = {}
    for period in ("2020Q2", PERIOD):
        result = generate(period, folder / period, DEV_KEY, regions=["77"],
                          units=[TOWN, VILLAGE, SCHOOL, STRAY])
        for path in result.paths:
            found[period, path.stem.rsplit("_", 1)[1]] = path.read_bytes()
    return found


def unit_return(templates, folder: Path, unit: Unit, changes=None, period=PERIOD,
                name=None) -> Path:
    data = fill_workbook(templates[period, unit.unit_id], {**CLEAN, **(changes or {})})
    path = folder / (name or f"cos_{period}_77_{unit.unit_id}.xlsm")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def take(url, paths, **kwargs):
    with open_ledger(url, create=True) as ledger:
        return ledger.intake(paths, DEV_KEY, allow_dev_key=True, **kwargs)


def codes(item) -> set[str]:
    return {f.code for f in item.findings}


def test_intake_of_unit_workbooks(ledger_url, unit_templates, make_return, tmp_path):
    with open_ledger(ledger_url, create=True) as ledger:
        ledger.register_units(PERIOD, "77", [TOWN, SCHOOL], Campaign(), DEV_KEY)
    town = unit_return(unit_templates, tmp_path / "a", TOWN)
    school = unit_return(unit_templates, tmp_path / "a", SCHOOL, WRONG)
    stray = unit_return(unit_templates, tmp_path / "a", STRAY)
    town2 = unit_return(unit_templates, tmp_path / "b", TOWN, {"e40107": 3_000})
    own = make_return(tmp_path / "c", "77")
    outcomes = take(ledger_url, [town, school, stray, town, town2, own])
    assert [(o.status, o.verdict, o.region_code, o.unit_id, o.version) for o in outcomes] == [
        ("new", "PASS_WITH_WARNINGS", "77", TOWN.unit_id, 1),
        ("new", "FAIL", "77", SCHOOL.unit_id, 1),
        ("new", "FAIL", "77", STRAY.unit_id, 1),
        ("duplicate", "PASS_WITH_WARNINGS", "77", TOWN.unit_id, 1),
        ("new", "PASS_WITH_WARNINGS", "77", TOWN.unit_id, 2),
        ("new", "PASS_WITH_WARNINGS", "77", "", 1)]
    # the summary names the unit, by its id and name
    assert outcomes[0].message == ("МО 45000000 «Город «Пример»»: принят с предупреждениями, "
                                   "версия 1")
    assert outcomes[0].unit_name == TOWN.name
    assert outcomes[1].message == "организация 7701234567 «ГБОУ Школа № 1»: отклонён, версия 1"
    assert outcomes[3].message == "МО 45000000 «Город «Пример»»: уже получен, версия 1"
    assert outcomes[5].message == "принят с предупреждениями, версия 1"
    assert "part-exceeds-total" in codes(outcomes[1])
    assert codes(outcomes[2]) >= {"unit-not-issued"}
    (missing,) = [f for f in outcomes[2].findings if f.code == "unit-not-issued"]
    assert missing.severity == "error" and "45999999" in missing.message
    assert "cos-xl generate --period 2020Q3 --region 77 --units" in missing.message
    assert "region-not-issued" not in codes(outcomes[2])

    with open_ledger(ledger_url) as ledger:
        assert list(ledger.latest_accepted(PERIOD)) == ["77"]
        assert ledger.latest_accepted(PERIOD)["77"].unit_id == ""
        units = ledger.latest_accepted_units(PERIOD, "77")
        assert {u: s.version for u, s in units.items()} == {TOWN.unit_id: 2}
        assert units[TOWN.unit_id].values["e40107"] == 3_000
        assert ledger.counts()["receipts"] == 6


def test_the_web_link_of_a_region_takes_only_its_own_return(ledger_url, unit_templates,
                                                             tmp_path):
    town = unit_return(unit_templates, tmp_path, TOWN)
    (refused,) = take(ledger_url, [town], period=PERIOD, region="77")
    assert (refused.status, refused.stored) == ("refused", False)
    assert "МО 45000000" in refused.message and "отчёт самого субъекта" in refused.message
    take(ledger_url, [town])  # stored by the regional intake; then the link refuses it again
    (again,) = take(ledger_url, [town], period=PERIOD, region="77")
    assert again.status == "refused"


def test_a_unit_is_validated_with_its_own_previous_figures(ledger_url, unit_templates,
                                                           make_return, tmp_path):
    # The second quarter: the region's own figures low, the town's as in the third.
    take(ledger_url, [make_return(tmp_path / "q2", "77", LOW_Q2, period="2020Q2"),
                      unit_return(unit_templates, tmp_path / "q2", TOWN, period="2020Q2")])
    with open_ledger(ledger_url) as ledger:
        assert list(ledger.previous_unit_figures("2020Q2", "77")) == [TOWN.unit_id]
    jumps = {"share-jump", "count-decreased"}
    # the town's file under a name that says nothing: validated again with its own figures
    town = unit_return(unit_templates, tmp_path / "q3", TOWN, name="returned.xlsm")
    village = unit_return(unit_templates, tmp_path / "q3", VILLAGE)  # no figures of its own
    own = make_return(tmp_path / "q3", "77")
    first, second, third = take(ledger_url, [town, village, own])
    assert first.unit_id == TOWN.unit_id and not codes(first) & jumps
    assert second.unit_id == VILLAGE.unit_id and not codes(second) & jumps
    assert third.unit_id == "" and jumps <= codes(third)


# --- status per unit, through the real command -------------------------------------------------

def cos_xl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, columns=220)


def test_status_per_unit_through_the_command(tmp_path, unit_templates):
    (tmp_path / "units.csv").write_text(
        "unit_id,name,kind\n"
        f"{TOWN.unit_id},{TOWN.name},municipality\n"
        f"{VILLAGE.unit_id},{VILLAGE.name},municipality\n"
        f"{SCHOOL.unit_id},{SCHOOL.name},organisation\n", encoding="utf-8")
    assert cos_xl("ledger", "init", "--db", "l.sqlite", cwd=tmp_path).returncode == 0
    empty = one_line_error(cos_xl("status", "--period", PERIOD, "--region", "77", "--db",
                                  "l.sqlite", cwd=tmp_path))
    assert "нет ни списка МО/организаций субъекта 77" in empty
    assert "cos-xl generate --period 2020Q3 --region 77 --units" in empty and "--db" in empty
    made = cos_xl("generate", "--period", PERIOD, "--region", "77", "--units", "units.csv",
                  "--out", "t", "--dev-key", "--db", "l.sqlite", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    inbox = tmp_path / "inbox"
    (inbox / "t").mkdir(parents=True)
    data = (tmp_path / "t" / f"cos_{PERIOD}_77_{TOWN.unit_id}.xlsm").read_bytes()
    (inbox / f"cos_{PERIOD}_77_{TOWN.unit_id}.xlsm").write_bytes(fill_workbook(data, CLEAN))
    data = (tmp_path / "t" / f"cos_{PERIOD}_77_{SCHOOL.unit_id}.xlsm").read_bytes()
    (inbox / f"cos_{PERIOD}_77_{SCHOOL.unit_id}.xlsm").write_bytes(
        fill_workbook(data, {**CLEAN, **WRONG}))
    unit_return(unit_templates, inbox, STRAY)  # never issued by this ledger
    took = cos_xl("intake", "inbox", "--db", "l.sqlite", "--dev-key", cwd=tmp_path)
    assert took.returncode == 1, took.stdout  # the school and the stray one are rejected
    out = " ".join(took.stdout.split())
    assert "МО 45000000 «Город «Пример»»: принят с предупреждениями, версия 1" in out
    assert "Файлов: 3; принято: 1, отклонено: 2" in out

    text = cos_xl("status", "--period", PERIOD, "--region", "77", "--db", "l.sqlite",
                  cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert "Период 2020Q3, субъект 77 (г. Москва), срок 15.10.2020" in text.stdout
    town_line = next(line for line in lines if TOWN.unit_id in line)
    assert "принят с предупреждениями" in town_line and "│ МО " in town_line
    village_line = next(line for line in lines if VILLAGE.unit_id in line)
    assert "не получен" in village_line and "просрочен" in village_line
    school_line = next(line for line in lines if SCHOOL.unit_id in line)
    assert "отклонён" in school_line and "организация" in school_line
    stray_line = next(line for line in lines if STRAY.unit_id in line)
    assert "нет в списке выданных" in stray_line
    summary = " ".join(lines[-2:])
    assert ("2 муниципальных образования и 1 организация; принято: 0, с предупреждениями: 1, "
            "отклонено: 2, не получено: 1") in " ".join(summary.split())
    assert "не из списка выданных: 1 МО/организация" in summary

    doc = json.loads(cos_xl("status", "--period", PERIOD, "--region", "77", "--db", "l.sqlite",
                            "--format", "json", cwd=tmp_path).stdout)
    assert doc["schema"] == "cos-xl/unit-status/1" and doc["region_code"] == "77"
    assert doc["units_registered"] is True and doc["deadline"] == "2020-10-15"
    assert [u["unit_id"] for u in doc["units"]] == [TOWN.unit_id, VILLAGE.unit_id,
                                                    SCHOOL.unit_id, STRAY.unit_id]
    assert [u["status"] for u in doc["units"]] == [
        "принят с предупреждениями", "не получен", "отклонён", "отклонён"]
    assert [u["issued"] for u in doc["units"]] == [True, True, True, False]
    assert doc["units"][0]["latest_version"] == 1 and doc["units"][0]["name"] == TOWN.name
    assert doc["summary"]["not_issued"] == 1 and doc["summary"]["rejected"] == 2

    # Without --region on a ledger of units only, status says which command was meant …
    bare = cos_xl("status", "--period", PERIOD, "--db", "l.sqlite", cwd=tmp_path)
    assert bare.returncode == 2 and "--region 77" in one_line_error(bare)
    # … and with a campaign given, the status is the regions', which the units' returns do not
    # touch.
    (tmp_path / "campaign.toml").write_text("", encoding="utf-8")
    regions = json.loads(cos_xl("status", "--period", PERIOD, "--db", "l.sqlite", "--format",
                                "json", "--config", "campaign.toml", cwd=tmp_path).stdout)
    assert len(regions["regions"]) == 85 and regions["summary"]["not_received"] == 85
    assert "unit" not in json.dumps(regions)
    assert "нет ни списка" in one_line_error(cos_xl(
        "status", "--period", PERIOD, "--region", "50", "--db", "l.sqlite", cwd=tmp_path))
    assert "Неизвестный код региона" in one_line_error(cos_xl(
        "status", "--period", PERIOD, "--region", "1234", "--db", "l.sqlite", cwd=tmp_path))


def test_unit_status_without_a_list_shows_the_units_that_returned(ledger_url):
    with open_ledger(ledger_url, create=True) as ledger:
        with pytest.raises(NoUnitsError, match="cos-xl generate"):
            unit_status(ledger, PERIOD, "77")
        ledger.record(received("77", TOWN.unit_id, "a", verdict="FAIL"))
        ledger.record(received("77", TOWN.unit_id, "b", verdict="PASS",
                               moment=dt.datetime(2020, 10, 20, tzinfo=UTC)))
        ledger.record(received("77", TOWN.unit_id, "c", verdict="FAIL"))
        found = unit_status(ledger, PERIOD, "77", now=dt.datetime(2020, 10, 30, tzinfo=UTC))
    (row,) = found.rows
    assert found.registered is None and row.issued is None and row.name == ""
    assert (row.state, row.latest_version, row.counted_version, row.versions) == (
        "accepted", 3, 2, 3)
    assert row.overdue and row.note_ru() == "версия 3 отклонена, учитывается версия 2"
    assert found.summary_ru().startswith("1 МО/организация; принято: 1")
