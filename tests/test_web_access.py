"""Who may use the web intake, as the ledger keeps it (SQLite and PostgreSQL): upload links
stored as digests, issued once, replaced and revoked; federal accounts with argon2 hashes and a
lock after wrong passwords; sessions; the intake scoped to a link's region; the CLI commands."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from typer.testing import CliRunner
from web_helpers import DEV_KEY

from cos_xl.cli import app
from cos_xl.ledger import open_ledger
from cos_xl.ledger.access import LOCKOUT, SESSION_LIFETIME, AccessError
from cos_xl.web.security import redacted
from cos_xl.web.uploads import safe_filename

runner = CliRunner(env={"COLUMNS": "200"})


class Clock:
    def __init__(self) -> None:
        self.moment = dt.datetime(2020, 10, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.moment


def rows(ledger, table: str) -> list[tuple]:
    with ledger.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table}")]


def test_links_are_stored_as_digests_issued_once_replaced_and_revoked(ledger_url):
    with open_ledger(ledger_url, create=True) as ledger:
        access = ledger.access
        issued = access.issue_links("2020Q3", ["77", "50"])
        assert sorted(issued) == ["50", "77"] and len(set(issued.values())) == 2
        assert all(len(secret) >= 43 for secret in issued.values())
        stored = str(rows(ledger, "upload_tokens"))
        for secret in issued.values():
            assert secret not in stored
            assert hashlib.sha256(secret.encode()).hexdigest() in stored
        grant = access.grant(issued["77"])
        assert (grant.region_code, grant.period) == ("77", "2020Q3")
        assert access.grant("nonsense") is None and access.grant("") is None
        assert access.grant("x" * 10_000) is None
        with pytest.raises(AccessError, match="уже есть действующие ссылки"):
            access.issue_links("2020Q3", ["77"])
        assert access.issue_links("2020Q4", ["77"])  # another period: its own link
        new = access.issue_links("2020Q3", ["77"], replace=True)
        assert access.grant(issued["77"]) is None and access.grant(new["77"]).region_code == "77"
        assert access.revoke_links("2020Q3", ["77"]) == ["77"]
        assert access.grant(new["77"]) is None
        assert access.revoke_links("2020Q3") == ["50"]
        assert access.revoke_links("2020Q3") == []
        links = access.links("2020Q3")
        assert [(l.region_code, l.revoked_at is not None) for l in links] == [
            ("50", True), ("77", True), ("77", True)]
        assert ledger.periods() == ["2020Q4", "2020Q3"]


def test_passwords_are_argon2_hashes_and_wrong_ones_lock_the_account(ledger_url):
    clock = Clock()
    with open_ledger(ledger_url, create=True, clock=clock) as ledger:
        access = ledger.access
        access.add_user("analyst", "a long password 1")
        assert "a long password 1" not in str(rows(ledger, "users"))
        assert "$argon2id$" in str(rows(ledger, "users"))
        for bad, words in [("analyst", "уже есть"), ("Иван", "латинские"), ("a b", "латинские")]:
            with pytest.raises(AccessError, match=words):
                access.add_user(bad, "a long password 1")
        with pytest.raises(AccessError, match="короче"):
            access.add_user("short", "short")
        assert access.check_password("analyst", "a long password 1").name == "analyst"
        assert access.check_password("nobody", "a long password 1") is None
        for _ in range(5):
            assert access.check_password("analyst", "wrong") is None
        # locked: even the right password is refused until the lock ends
        assert access.check_password("analyst", "a long password 1") is None
        clock.moment += LOCKOUT + dt.timedelta(seconds=1)
        assert access.check_password("analyst", "a long password 1") is not None
        assert [u.name for u in access.users()] == ["analyst"]


def test_sessions_are_digests_expire_and_end(ledger_url):
    clock = Clock()
    with open_ledger(ledger_url, create=True, clock=clock) as ledger:
        access = ledger.access
        user = access.add_user("analyst", "a long password 1")
        secret, session = access.open_session(user)
        assert secret not in str(rows(ledger, "web_sessions"))
        found = access.session(secret)
        assert found.user.name == "analyst" and found.csrf == session.csrf
        assert access.session("nonsense") is None
        clock.moment += SESSION_LIFETIME
        assert access.session(secret) is None  # expired
        clock.moment -= SESSION_LIFETIME
        access.close_session(secret)
        assert access.session(secret) is None
        other, _ = access.open_session(user)
        assert access.remove_user("analyst") and access.session(other) is None
        assert not access.remove_user("analyst")


def test_intake_scoped_to_a_region_refuses_another_and_records_the_arrival_name(
        ledger_url, make_return, tmp_path):
    moscow = make_return(tmp_path, "77")
    spooled = tmp_path / "4f1c.xlsm"
    spooled.write_bytes(moscow.read_bytes())
    with open_ledger(ledger_url, create=True) as ledger:
        (refused,) = ledger.intake([spooled], DEV_KEY, allow_dev_key=True, region="50")
        assert refused.status == "refused" and "субъекта 77" in refused.message
        assert ledger.counts()["submissions"] == 0
        (taken,) = ledger.intake([spooled], DEV_KEY, allow_dev_key=True, region="77",
                                 period="2020Q3", names={spooled: "Отчёт Москвы.xlsm"})
        assert taken.status == "new" and taken.region_code == "77"
        assert ledger.submissions("2020Q3", "77")[0].filename == "Отчёт Москвы.xlsm"
        # the same bytes under another region's link: still refused, not a receipt
        (again,) = ledger.intake([spooled], DEV_KEY, allow_dev_key=True, region="50")
        assert again.status == "refused" and ledger.counts()["receipts"] == 1


def test_the_cli_issues_revokes_and_lists_links_and_adds_users(tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    assert runner.invoke(app, ["ledger", "init", "--db", db]).exit_code == 0
    out = tmp_path / "links.csv"
    result = runner.invoke(app, ["tokens", "issue", "--period", "2020Q3", "--db", db,
                                 "--regions", "77,50", "--out", str(out),
                                 "--base-url", "https://cos.example.ru/"])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "region_code,token,url" and len(lines) == 3
    code, secret, url = lines[1].split(",")
    assert code == "50" and url == f"https://cos.example.ru/r/{secret}"
    assert out.stat().st_mode & 0o077 == 0  # readable by its owner only
    again = runner.invoke(app, ["tokens", "issue", "--period", "2020Q3", "--db", db,
                                "--regions", "77", "--out", str(tmp_path / "x.csv")])
    assert again.exit_code == 2 and "--replace" in again.output
    listed = runner.invoke(app, ["tokens", "list", "--db", db])
    assert "77" in listed.output and secret not in listed.output
    revoked = runner.invoke(app, ["tokens", "revoke", "--period", "2020Q3", "--db", db,
                                  "--regions", "50"])
    assert revoked.exit_code == 0 and "Отозвано ссылок: 1 (50)" in revoked.output
    with open_ledger(db) as ledger:
        assert ledger.access.grant(secret) is None
    # users: the password from standard input, or asked twice
    added = runner.invoke(app, ["users", "add", "analyst", "--db", db, "--password-stdin"],
                          input="a long password 1\n")
    assert added.exit_code == 0, added.output
    asked = runner.invoke(app, ["users", "add", "chief", "--db", db],
                          input="another password\nanother password\n")
    assert asked.exit_code == 0, asked.output
    short = runner.invoke(app, ["users", "add", "x", "--db", db, "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 2 and "короче" in short.output
    assert "analyst" in runner.invoke(app, ["users", "list", "--db", db]).output
    with open_ledger(db) as ledger:
        assert ledger.access.check_password("chief", "another password") is not None
    assert runner.invoke(app, ["users", "remove", "chief", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["users", "remove", "chief", "--db", db]).exit_code == 2
    # a CSV of links is never overwritten: its secrets are kept nowhere else
    kept = out.read_bytes()
    again = runner.invoke(app, ["tokens", "issue", "--period", "2020Q3", "--db", db,
                                "--regions", "50", "--out", str(out)])
    assert again.exit_code == 2 and "уже существует" in again.output
    assert out.read_bytes() == kept
    # a ledger that does not exist is not created by these commands
    missing = runner.invoke(app, ["tokens", "issue", "--period", "2020Q3", "--db",
                                  str(tmp_path / "none.sqlite"), "--out",
                                  str(tmp_path / "new.csv")])
    assert missing.exit_code == 2 and not (tmp_path / "none.sqlite").exists()


def test_names_and_paths_from_clients_are_made_safe():
    assert safe_filename("C:\\Users\\x\\отчёт.xlsm") == "отчёт.xlsm"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("a\x00b\r\n.xlsm") == "ab.xlsm"
    assert safe_filename("") == "file" and len(safe_filename("a" * 999)) == 200
    assert redacted("/r/SECRET/v/1/annotated") == "/r/***/v/1/annotated"
    assert redacted("/federal/2020Q3") == "/federal/2020Q3"
