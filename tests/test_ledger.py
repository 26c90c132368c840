"""The submissions ledger, on SQLite and on a real PostgreSQL server: intake of real returned
workbooks, versions, identical bytes, unattributed files, status and deadlines, the previous
period's figures in validation and in generate, the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from helpers import DEV_KEY, write
from test_validate_values import CLEAN
from typer.testing import CliRunner

from cos_xl.campaign import Campaign, PeriodSettings
from cos_xl.cli import app
from cos_xl.core import compute_indicators
from cos_xl.ledger import LedgerError, open_ledger
from cos_xl.ledger import ledger_url as to_url
from cos_xl.ledger.schema import metadata
from cos_xl.periods import Period
from cos_xl.signing import resolve_key
from cos_xl.spec import load_form
from cos_xl.validate.reader import read_returned
from cos_xl.validate.safety import SafetyLimits

runner = CliRunner(env={"COLUMNS": "200"})  # rich tables unwrapped
FORM = load_form()
# Second-quarter figures far below CLEAN: E4.03 jumps by more than 20 p.p. to the third quarter,
# and E4.01.07 (cumulative within the year) falls.
LOW_Q2 = {"e403_go": 100_000, "e403_do": 50_000, "e403_spo": 10_000, "e40107": 9_000}
WRONG = {"e403_go": 2_000_000}  # more than the pupils: an error
UTC = dt.UTC


class Clock:
    """A settable clock for received_at."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment


def take(url, paths, key=DEV_KEY, clock=None, **kwargs):
    with open_ledger(url, create=True, **({"clock": clock} if clock else {})) as ledger:
        return ledger.intake(paths, key, allow_dev_key=True, **kwargs)


def codes(outcome_or_submission) -> set[str]:
    return {f.code for f in outcome_or_submission.findings}


# --- opening ---------------------------------------------------------------------------------

def test_urls_map_to_the_two_supported_databases(tmp_path):
    assert to_url(None).render_as_string() == "sqlite:///cos-xl.sqlite"
    assert to_url(str(tmp_path / "x.sqlite")).get_backend_name() == "sqlite"
    assert to_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert to_url("postgres://u:p@h/db").drivername == "postgresql+psycopg"
    assert to_url("postgresql+psycopg://u:p@h/db").drivername == "postgresql+psycopg"
    for bad, text in [("mysql://u@h/db", "поддерживаются"), ("sqlite://", "в памяти"),
                      (str(tmp_path / "no" / "such" / "x.sqlite"), "Нет папки")]:
        with pytest.raises(LedgerError, match=text):
            to_url(bad)


def test_migrations_give_the_schema_the_code_declares(ledger_url):
    for _ in range(2):  # the second open finds the schema current
        with open_ledger(ledger_url, create=True) as ledger, ledger.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
            assert MigrationContext.configure(conn).get_current_heads() == ("0004",)


def test_a_schema_newer_than_the_code_is_refused(ledger_url):
    with open_ledger(ledger_url, create=True) as ledger, ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(LedgerError, match="более новой версией"):
        open_ledger(ledger_url)


def test_an_unreachable_server_is_a_ledger_error():
    with pytest.raises(LedgerError, match=r"Не удалось открыть реестр postgresql\+psycopg://u:\*\*\*@"):
        open_ledger("postgresql://u:secret@127.0.0.1:1/none?connect_timeout=2")


# --- intake ----------------------------------------------------------------------------------

def test_intake_records_accepted_and_rejected_returns(ledger_url, make_return, tmp_path):
    good = make_return(tmp_path, "77")
    bad, _ = write(tmp_path, "cos_2020Q3_50.xlsm", region="50")  # untouched template
    clock = Clock(dt.datetime(2020, 10, 1, 9, 30, tzinfo=UTC))
    first, second = take(ledger_url, [good, bad], clock=clock)
    assert (first.status, first.verdict, first.region_code, first.version) == (
        "new", "PASS_WITH_WARNINGS", "77", 1)
    assert first.message == "принят с предупреждениями, версия 1" and first.accepted
    assert (second.status, second.verdict, second.version) == ("new", "FAIL", 1)
    assert "value-missing" in codes(second) and not second.accepted

    with open_ledger(ledger_url) as ledger:
        assert list(ledger.latest_accepted("2020Q3")) == ["77"]
        sub = ledger.latest_accepted("2020Q3")["77"]
        assert (sub.period, sub.form_id, sub.form_version) == ("2020Q3", FORM.id, FORM.version)
        assert sub.received_at == clock.moment and sub.received_at.tzinfo is not None
        assert sub.filename == "cos_2020Q3_77.xlsm" and sub.size == good.stat().st_size
        assert sub.sha256 == hashlib.sha256(good.read_bytes()).hexdigest()
        assert ledger.blob(sub.sha256) == good.read_bytes()
        assert sub.numbers()["students_go"] == CLEAN["students_go"]
        assert sub.values["resp_name"] == CLEAN["resp_name"]
        assert codes(sub) == codes(first)
        (rejected,) = ledger.submissions("2020Q3", "50")
        assert rejected.verdict == "FAIL" and not rejected.accepted
        assert [s.region_code for s in ledger.submissions("2020Q3")] == ["50", "77"]
        with pytest.raises(LedgerError, match="нет файла"):
            ledger.blob("0" * 64)


def test_a_resubmission_adds_a_version_and_identical_bytes_are_recognised(
        ledger_url, make_return, tmp_path):
    v1 = make_return(tmp_path / "a", "77")
    v2 = make_return(tmp_path / "b", "77", {"e40107": 3_000})
    again = tmp_path / "renamed copy.xlsm"
    again.write_bytes(v1.read_bytes())
    outcomes = take(ledger_url, [v1, v2, again])
    assert [(o.status, o.version) for o in outcomes] == [("new", 1), ("new", 2),
                                                         ("duplicate", 1)]
    assert outcomes[2].message == "уже получен, версия 1" and outcomes[2].accepted
    (repeat,) = take(ledger_url, [v2])
    assert (repeat.status, repeat.version, repeat.message) == (
        "duplicate", 2, "уже получен, версия 2")
    with open_ledger(ledger_url) as ledger:
        assert ledger.counts() == {"blobs": 2, "submissions": 2, "receipts": 4}
        latest = ledger.latest_accepted("2020Q3")["77"]
        assert latest.version == 2 and latest.values["e40107"] == 3_000
        assert [s.version for s in ledger.submissions("2020Q3", "77")] == [1, 2]


def test_a_rejected_resubmission_leaves_the_earlier_accepted_one_counting(
        ledger_url, make_return, tmp_path):
    v1 = make_return(tmp_path / "a", "77")
    v2 = make_return(tmp_path / "b", "77", WRONG)
    outcomes = take(ledger_url, [v1, v2])
    assert [o.verdict for o in outcomes] == ["PASS_WITH_WARNINGS", "FAIL"]
    assert "part-exceeds-total" in codes(outcomes[1])
    with open_ledger(ledger_url) as ledger:
        assert ledger.latest_accepted("2020Q3")["77"].version == 1
        row = next(r for r in ledger.status("2020Q3") if r.region_code == "77")
    assert (row.state, row.latest_version, row.counted_version) == (
        "accepted_with_warnings", 2, 1)
    assert row.later_rejected and row.note_ru() == "версия 2 отклонена, учитывается версия 1"


def test_untrusted_files_are_kept_unattributed(ledger_url, make_return, tmp_path):
    other_key = resolve_key(env={"COS_XL_SIGNING_KEY": "another federal key, 32 bytes!!"})
    forged = make_return(tmp_path, "77")  # signed with the development key
    text = tmp_path / "letter.xlsx"
    text.write_text("не книга", encoding="utf-8")
    outcomes = take(ledger_url, [forged, text, forged], key=other_key)
    assert [(o.status, o.verdict, o.region_code, o.version) for o in outcomes] == [
        ("new", "FAIL", None, None), ("skipped", "FAIL", None, None),
        ("duplicate", "FAIL", None, None)]
    assert "manifest-signature-invalid" in codes(outcomes[0])
    assert outcomes[0].message.startswith("не опознан")
    assert "не книга (обычный текст)" in outcomes[1].message  # passed over, not stored
    with open_ledger(ledger_url) as ledger:
        kept = ledger.unattributed()
        assert [(u.filename, u.claimed_region_code, u.claimed_period) for u in kept] == [
            ("cos_2020Q3_77.xlsm", "77", "2020Q3")]
        assert ledger.blob(kept[0].sha256) == forged.read_bytes()
        assert ledger.unattributed_count() == 1 and ledger.submissions("2020Q3") == []
    # With the right key the same bytes are attributed: a version of region 77.
    (right,) = take(ledger_url, [forged])
    assert (right.status, right.region_code, right.version) == ("new", "77", 1)


def test_a_file_over_the_size_limit_keeps_its_digest_not_its_bytes(ledger_url, tmp_path):
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"PK" + bytes(5000))
    (outcome,) = take(ledger_url, [big], limits=SafetyLimits(max_file_size=1000))
    assert (outcome.status, outcome.verdict, outcome.size) == ("new", "FAIL", 5002)
    with open_ledger(ledger_url) as ledger, pytest.raises(LedgerError, match="превышал"):
        ledger.blob(outcome.sha256)


def test_an_unreadable_path_is_reported_not_recorded(ledger_url, tmp_path):
    (outcome,) = take(ledger_url, [tmp_path])  # a folder where a file was expected
    assert (outcome.status, outcome.stored, outcome.accepted) == ("error", False, False)
    with open_ledger(ledger_url) as ledger:
        assert ledger.counts()["submissions"] == 0


# --- status ----------------------------------------------------------------------------------

def at(day: int, hour: int, month: int = 10) -> dt.datetime:
    """Moscow wall time in October 2020 as UTC."""
    return dt.datetime(2020, month, day, hour, tzinfo=dt.timezone(dt.timedelta(hours=3))
                       ).astimezone(UTC)


def test_status_rows_and_overdue(ledger_url, make_return, tmp_path):
    clock = Clock(at(10, 12))
    take(ledger_url, [make_return(tmp_path / "1", "77")], clock=clock)  # on time
    take(ledger_url, [write(tmp_path, "cos_2020Q3_78.xlsm", region="78")[0]], clock=clock)
    clock.moment = at(15, 23)  # 23:00 MSK on the deadline day: still on time
    take(ledger_url, [make_return(tmp_path / "2", "50")], clock=clock)
    clock.moment = at(16, 0)  # just after
    take(ledger_url, [make_return(tmp_path / "3", "52")], clock=clock)

    with open_ledger(ledger_url) as ledger:
        before = {r.region_code: r for r in ledger.status("2020Q3", now=at(12, 0))}
        after = {r.region_code: r for r in ledger.status("2020Q3", now=at(20, 0))}
        later = {r.region_code: r for r in ledger.status(
            "2020Q3", Campaign(periods={"2020Q3": PeriodSettings(
                deadline=dt.date(2020, 10, 31))}), now=at(20, 0))}
    assert len(after) == 85 and list(after)[:2] == ["01", "02"]
    assert (before["01"].state, before["01"].overdue) == ("not_received", False)
    assert (after["01"].state, after["01"].overdue) == ("not_received", True)
    assert (after["78"].state, after["78"].overdue) == ("rejected", True)
    assert (before["78"].state, before["78"].overdue) == ("rejected", False)
    assert (after["77"].state, after["77"].overdue) == ("accepted_with_warnings", False)
    assert after["77"].latest_received_at == at(10, 12) and after["77"].latest_version == 1
    assert after["50"].overdue is False  # 23:00 MSK on the 15th
    assert after["52"].overdue is True and before["52"].overdue is True  # came in late
    assert not any(r.overdue for r in later.values())
    assert after["01"].state_ru == "не получен" and after["78"].state_ru == "отклонён"


def test_status_of_2023_lists_the_89_subjects(ledger_url):
    with open_ledger(ledger_url, create=True) as ledger:
        rows = ledger.status("2023Q1")
    assert len(rows) == 89 and rows[-1].region_code == "95"


# --- the previous period ---------------------------------------------------------------------

def test_previous_figures_come_from_the_latest_accepted_submission(ledger_url, make_return,
                                                                   tmp_path):
    take(ledger_url, [make_return(tmp_path / "1", "77", LOW_Q2, period="2020Q2"),
                      make_return(tmp_path / "2", "77", {**LOW_Q2, **WRONG}, period="2020Q2")])
    with open_ledger(ledger_url) as ledger:
        figures = ledger.previous_figures("2020Q2")
        expected = compute_indicators(FORM, {**CLEAN, **LOW_Q2})
        assert list(figures) == ["77"]
        period, values = figures["77"]
        assert period == Period(2020, 2)
        assert values == {code: v.value for code, v in expected.items() if v.value is not None}
        assert values["E4.03"] == pytest.approx(160_000 / 2_200_000 * 100)
        assert ledger.previous_for_validation("2020Q3")["77"] == {"period": "2020Q2",
                                                                  "values": values}


def test_previous_period_rules_use_the_ledger(ledger_url, make_return, tmp_path):
    q3 = make_return(tmp_path / "q3", "77")
    # Without a second quarter in the ledger, no period-to-period finding.
    (alone,) = take(f"sqlite:///{tmp_path / 'empty.sqlite'}", [q3])
    assert not codes(alone) & {"share-jump", "count-decreased"}
    # One batch, the third-quarter file under a name without a period: the first file's period
    # is the wrong guess, and the second quarter accepted in this batch is what counts.
    q2 = make_return(tmp_path / "q2", "77", LOW_Q2, period="2020Q2")
    unnamed = tmp_path / "returned.xlsm"
    unnamed.write_bytes(q3.read_bytes())
    first, second = take(ledger_url, [q2, unnamed])
    assert first.period == "2020Q2" and first.accepted
    assert second.period == "2020Q3" and second.accepted
    assert {"share-jump", "count-decreased"} <= codes(second)
    jump = next(f for f in second.findings if f.code == "share-jump" and "E4.03" in f.message)
    assert "7,3" in jump.message or "7.3" in jump.message


def test_generate_prefills_the_previous_figures_from_the_ledger(ledger_url, make_return,
                                                                tmp_path):
    take(ledger_url, [make_return(tmp_path / "q2", "77", LOW_Q2, period="2020Q2")])
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--period", "2020Q3", "--out", str(out),
                                 "--regions", "77,50", "--dev-key",
                                 "--previous-from", ledger_url])
    assert result.exit_code == 0, result.output
    manifest77 = read_returned(out / "cos_2020Q3_77.xlsm").manifest
    manifest50 = read_returned(out / "cos_2020Q3_50.xlsm").manifest
    assert manifest77["previous"]["period"] == "2020Q2"
    assert manifest77["previous"]["values"]["E4.03"] == pytest.approx(160_000 / 22_000)
    assert manifest77["previous"]["values"]["E4.01.07"] == 9_000
    assert manifest50["previous"] == {"period": None, "values": {}}


# --- the CLI ---------------------------------------------------------------------------------

def test_cli_intake_and_status(ledger_url, make_return, tmp_path):
    folder = tmp_path / "mail"
    make_return(folder, "77")
    make_return(folder, "50")
    result = runner.invoke(app, ["intake", str(folder), "--db", ledger_url, "--dev-key"])
    assert result.exit_code == 0, result.output
    assert "принят с предупреждениями, версия 1" in result.stdout
    assert "Файлов: 2; принято: 2" in result.stdout
    again = runner.invoke(app, ["intake", str(folder), "--dev-key"],
                          env={"COS_XL_DB": ledger_url})
    assert again.exit_code == 0 and "уже получен, версия 1" in again.stdout
    (tmp_path / "bad").mkdir()
    write(tmp_path / "bad", "cos_2020Q3_78.xlsm", region="78")
    rejected = runner.invoke(app, ["intake", str(tmp_path / "bad"), "--db", ledger_url,
                                   "--dev-key"])
    assert rejected.exit_code == 1 and "отклонён, версия 1" in rejected.stdout

    status = runner.invoke(app, ["status", "--period", "2020Q3", "--db", ledger_url,
                                 "--format", "json"])
    assert status.exit_code == 0, status.output
    doc = json.loads(status.stdout)
    assert doc["schema"] == "cos-xl/status/1" and doc["deadline"] == "2020-10-15"
    assert doc["summary"]["accepted_with_warnings"] == 2 and doc["summary"]["rejected"] == 1
    assert doc["summary"]["not_received"] == 82
    row = next(r for r in doc["regions"] if r["region_code"] == "77")
    assert row["status"] == "принят с предупреждениями" and row["latest_version"] == 1
    text = runner.invoke(app, ["status", "--period", "2020Q3", "--db", ledger_url])
    assert text.exit_code == 0 and "не получен" in text.stdout and "просрочен" in text.stdout


@pytest.mark.parametrize("args", [
    ["intake", "no/such/file.xlsm", "--dev-key"],
    ["intake", "{tmp}", "--dev-key", "--db", "mysql://u@h/db"],
    ["intake", "{tmp}"],  # no signing key
    ["status", "--period", "2020Q5"],
    ["status", "--period", "2020Q3", "--format", "xml"],
    ["status", "--period", "2020Q3", "--db", "postgresql://u:p@127.0.0.1:1/x"],
])
def test_cli_usage_errors_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COS_XL_SIGNING_KEY", raising=False)
    (tmp_path / "empty.xlsm").write_bytes(b"")
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output


def test_values_json_cannot_hold_is_kept_as_text(ledger_url):
    """A date cell or an infinite number (which PostgreSQL's json rejects) is stored as text."""
    from cos_xl.ledger import Received
    item = Received(filename="x.xlsm", sha256="a" * 64, size=1, data=b"x",
                    received_at=dt.datetime(2020, 10, 1, 12, tzinfo=dt.timezone(
                        dt.timedelta(hours=3))),
                    verdict="FAIL", region_code="77", period="2020Q3", form_id="f",
                    form_version="1", values={"a": float("inf"), "b": dt.date(2020, 1, 2),
                                              "c": 1.5, "d": None, "e": "текст"})
    with open_ledger(ledger_url, create=True) as ledger:
        assert ledger.record(item).version == 1
        (sub,) = ledger.submissions("2020Q3", "77")
    assert sub.values == {"a": "inf", "b": "2020-01-02", "c": 1.5, "d": None, "e": "текст"}
    assert sub.received_at == dt.datetime(2020, 10, 1, 9, tzinfo=UTC)
