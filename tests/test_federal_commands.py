"""The federal team's commands never mislead: a ledger that is not there, an output that cannot
be written, templates already sent, the campaign kept in the ledger, intake scoped to
workbooks, a period and the regions issued. Run through the real entry point
(``python -m cos_xl.cli``), asserting exit codes, messages and what was (not) created."""

from __future__ import annotations

import errno
import json
import sqlite3

import pytest
from typer.testing import CliRunner

from cos_xl.cli import app
from cos_xl.ledger import open_ledger
from helpers import DEV_KEY, cos_xl, one_line_error

PERIOD = "2020Q3"
CAMPAIGN = """
[periods.2020Q3]
deadline = 2020-10-20
targets = { "E4.03" = 55.0 }
"""




# -- 1. a ledger that does not exist is an error -------------------------------------------

@pytest.mark.parametrize("args", [
    ["status", "--period", PERIOD],
    ["consolidate", "--period", PERIOD, "--out", "national.xlsx"],
    ["generate", "--period", PERIOD, "--out", "t", "--dev-key", "--previous-from", "{db}"],
    ["generate", "--period", PERIOD, "--out", "t", "--dev-key", "--db", "{db}"],
    ["campaign", "register", "--period", PERIOD, "--dev-key"],
    ["ledger", "unidentified"],
], ids=["status", "consolidate", "previous-from", "generate --db", "campaign", "unidentified"])
def test_a_missing_ledger_is_an_error_and_nothing_is_created(tmp_path, args):
    args = [a.replace("{db}", "typo.sqlite") for a in args]
    if "{db}" not in " ".join(args) and "--db" not in args and "--previous-from" not in args:
        args += ["--db", "typo.sqlite"]
    text = one_line_error(cos_xl(*args, cwd=tmp_path))
    assert "Реестр не найден" in text and str(tmp_path / "typo.sqlite") in text
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no ledger, no report, no template


def test_the_default_ledger_comes_from_cos_xl_db(tmp_path):
    db = tmp_path / "shared.sqlite"
    assert cos_xl("ledger", "init", cwd=tmp_path, env={"COS_XL_DB": str(db)}).returncode == 0
    result = cos_xl("status", "--period", PERIOD, cwd=tmp_path, env={"COS_XL_DB": str(db)})
    assert result.returncode == 0, result.stderr
    assert "Субъектов: 85" in result.stdout


def test_intake_and_ledger_init_create_the_ledger_and_say_so(tmp_path, make_return):
    inbox = tmp_path / "inbox"
    make_return(inbox, "77")
    result = cos_xl("intake", "inbox", "--db", "new.sqlite", "--dev-key", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Создан новый реестр" in result.stderr and (tmp_path / "new.sqlite").is_file()
    again = cos_xl("ledger", "init", "--db", "new.sqlite", cwd=tmp_path)
    assert again.returncode == 0 and "уже существует" in again.stderr


def test_a_file_that_is_not_a_ledger_is_refused_untouched(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("заметки", encoding="utf-8")
    assert "не реестр cos-xl" in one_line_error(
        cos_xl("status", "--period", PERIOD, "--db", "notes.sqlite", cwd=tmp_path))
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
    before = other.read_bytes()
    for command in (["status", "--period", PERIOD], ["ledger", "init"],
                    ["intake", "notes.sqlite", "--dev-key"]):
        result = cos_xl(*command, "--db", "other.sqlite", cwd=tmp_path)
        assert "не реестр cos-xl" in one_line_error(result), command
    assert other.read_bytes() == before


# -- 2. one error handler: one Russian line, exit 2, no traceback ---------------------------

@pytest.fixture
def blocker(tmp_path):
    """A file where a command is told to write into a folder."""
    path = tmp_path / "blocker"
    path.write_text("x")
    return path


def test_outputs_that_cannot_be_written_give_one_line(tmp_path, blocker, make_return):
    inbox = tmp_path / "inbox"
    make_return(inbox, "77")
    assert cos_xl("intake", "inbox", "--db", "l.sqlite", "--dev-key", cwd=tmp_path).returncode == 0
    cases = {
        "generate": ["generate", "--period", PERIOD, "--regions", "77", "--dev-key", "--out",
                     "blocker/t"],
        "validate --out": ["validate", "inbox", "--dev-key", "--format", "xlsx", "--out",
                           "blocker/r"],
        "validate --annotate": ["validate", "inbox", "--dev-key", "--annotate", "blocker/a"],
        "consolidate": ["consolidate", "--period", PERIOD, "--db", "l.sqlite", "--out",
                        "blocker/n.xlsx"],
        "demo": ["demo", "--out", "blocker/d"],
        "intake": ["intake", "inbox", "--dev-key", "--db", "blocker/l.sqlite"],
    }
    for name, args in cases.items():
        text = one_line_error(cos_xl(*args, cwd=tmp_path))
        assert "blocker" in text, (name, text)
    assert blocker.read_text() == "x"


def test_read_only_place_is_named(tmp_path):
    # /sys refuses new entries even to root (the tests run as root in CI)
    text = one_line_error(cos_xl("generate", "--period", PERIOD, "--regions", "77",
                                 "--dev-key", "--out", "/sys/cos-xl-test", cwd=tmp_path))
    assert "/sys/cos-xl-test" in text


@pytest.mark.parametrize(("number", "words"), [
    (errno.ENOSPC, "на диске нет места"), (errno.EACCES, "нет прав"),
    (errno.EROFS, "только для чтения")])
def test_system_errors_are_told_in_russian_with_the_path(tmp_path, monkeypatch, number, words):
    import cos_xl.files

    def refuse(src, dst):
        raise OSError(number, "refused", str(dst))

    monkeypatch.setattr(cos_xl.files.os, "replace", refuse)
    result = CliRunner().invoke(app, ["generate", "--period", PERIOD, "--regions", "77",
                                      "--dev-key", "--out", str(tmp_path / "t")])
    assert result.exit_code == 2, result.output
    text = result.output.replace("\n", "")
    assert words in text and "cos_2020Q3_77.xlsm" in text
    assert not list((tmp_path / "t").glob("*.xlsm"))  # nothing half-written


def test_debug_shows_the_traceback(tmp_path, blocker):
    result = cos_xl("--debug", "generate", "--period", PERIOD, "--regions", "77", "--dev-key",
                    "--out", "blocker/t", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_validate_of_a_folder_without_workbooks_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "Нет файлов для проверки" in one_line_error(
        cos_xl("validate", "empty", "--dev-key", cwd=tmp_path))


# -- 3. generate never overwrites -------------------------------------------------------------

def test_generate_twice_is_a_no_op_and_never_overwrites_a_different_file(tmp_path):
    args = ["generate", "--period", PERIOD, "--regions", "77,50", "--dev-key", "--out", "t"]
    assert cos_xl(*args, cwd=tmp_path).returncode == 0
    files = sorted((tmp_path / "t").glob("*.xlsm"))
    stamps = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    again = cos_xl(*args, cwd=tmp_path)
    assert again.returncode == 0 and "Не изменились" in again.stderr
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == stamps  # untouched
    (tmp_path / "c.toml").write_text(CAMPAIGN, encoding="utf-8")
    changed = cos_xl(*args, "--config", "c.toml", cwd=tmp_path)
    text = one_line_error(changed)
    assert "2 шаблона с другим содержимым" in text and "--force" in text
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == stamps
    forced = cos_xl(*args, "--config", "c.toml", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert all(p.read_bytes() != stamps[p][0] for p in files)


def test_a_folder_never_holds_templates_of_two_keys(tmp_path):
    key = tmp_path / "federal.key"
    key.write_text("k" * 40)
    args = ["generate", "--period", PERIOD, "--regions", "77", "--out", "t"]
    assert cos_xl(*args, "--dev-key", cwd=tmp_path).returncode == 0
    before = (tmp_path / "t" / "cos_2020Q3_77.xlsm").read_bytes()
    for extra in ([], ["--force"]):
        text = one_line_error(cos_xl(*args, "--regions", "50", "--key-file", "federal.key",
                                     *extra, cwd=tmp_path))
        assert "другим ключом" in text
    assert not (tmp_path / "t" / "cos_2020Q3_50.xlsm").exists()
    assert (tmp_path / "t" / "cos_2020Q3_77.xlsm").read_bytes() == before
    # another period in the same folder may use another key
    assert cos_xl("generate", "--period", "2020Q4", "--regions", "77", "--out", "t",
                  "--key-file", "federal.key", cwd=tmp_path).returncode == 0


# -- 4. the campaign lives in the ledger --------------------------------------------------------

@pytest.fixture
def round_(tmp_path, make_return):
    """A ledger with the 2020Q3 campaign recorded by generate --db for regions 77 and 50."""
    (tmp_path / "c.toml").write_text(CAMPAIGN, encoding="utf-8")
    assert cos_xl("ledger", "init", "--db", "l.sqlite", cwd=tmp_path).returncode == 0
    result = cos_xl("generate", "--period", PERIOD, "--regions", "77,50", "--dev-key",
                    "--out", "t", "--config", "c.toml", "--db", "l.sqlite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Кампания 2020Q3 записана" in " ".join(result.stderr.split())
    return tmp_path


def test_status_and_consolidate_use_the_campaign_without_config(round_, make_return):
    make_return(round_ / "inbox", "77")
    assert cos_xl("intake", "inbox", "--db", "l.sqlite", "--dev-key", cwd=round_).returncode == 0
    status = cos_xl("status", "--period", PERIOD, "--db", "l.sqlite", "--format", "json",
                    cwd=round_)
    data = json.loads(status.stdout)
    assert data["deadline"] == "2020-10-20"  # from the campaign, not the default 15.10
    assert [r["region_code"] for r in data["regions"]] == ["50", "77"]  # the regions issued
    assert [r["region_name"] for r in data["regions"]] == ["Московская область", "г. Москва"]
    text = cos_xl("status", "--period", PERIOD, "--db", "l.sqlite", cwd=round_)
    assert "срок 20.10.2020" in text.stdout and "не зарегистрирована" not in text.stderr
    national = cos_xl("consolidate", "--period", PERIOD, "--db", "l.sqlite", "--out", "n.xlsx",
                      "--json", "n.json", cwd=round_)
    assert national.returncode == 0, national.stderr
    figures = json.loads((round_ / "n.json").read_text(encoding="utf-8"))
    assert figures["indicators"]["E4.03"]["target"] == 55.0


def test_status_without_a_campaign_says_the_deadline_is_the_default(tmp_path):
    assert cos_xl("ledger", "init", "--db", "l.sqlite", cwd=tmp_path).returncode == 0
    result = cos_xl("status", "--period", PERIOD, "--db", "l.sqlite", cwd=tmp_path)
    assert "не зарегистрирована" in " ".join(result.stderr.split())
    assert "Субъектов: 85" in result.stdout


def test_campaign_register_extends_regions_and_refuses_another_key(round_):
    assert cos_xl("campaign", "register", "--period", PERIOD, "--regions", "78",
                  "--config", "c.toml", "--db", "l.sqlite", "--dev-key",
                  cwd=round_).returncode == 0
    with open_ledger(str(round_ / "l.sqlite")) as ledger:
        found = ledger.campaign(PERIOD)
    assert found.regions == ("50", "77", "78") and found.key_fingerprint == DEV_KEY.fingerprint
    (round_ / "k").write_text("k" * 40)
    assert "другим ключом" in one_line_error(cos_xl(
        "campaign", "register", "--period", PERIOD, "--db", "l.sqlite", "--key-file", "k",
        cwd=round_))


# -- 5. intake is scoped ----------------------------------------------------------------------

def test_intake_passes_over_what_is_no_workbook(round_, make_return):
    inbox = round_ / "inbox"
    make_return(inbox, "77")
    (inbox / "letter.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    (inbox / "scan.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    (inbox / "notes.docx").write_bytes(_docx())
    result = cos_xl("intake", "inbox", "--db", "l.sqlite", "--dev-key", cwd=round_)
    assert result.returncode == 0, result.stdout  # the return is accepted; the rest passed over
    out = " ".join(result.stdout.split())
    assert "не книги (пропущены): 3" in out and "документ PDF" in out
    with open_ledger(str(round_ / "l.sqlite")) as ledger:
        assert ledger.unattributed_count() == 0 and ledger.counts()["submissions"] == 1


def _docx() -> bytes:
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_intake_of_one_period_refuses_another(round_, make_return):
    make_return(round_ / "inbox", "77")
    result = cos_xl("intake", "inbox", "--db", "l.sqlite", "--dev-key", "--period", "2020Q4",
                    cwd=round_)
    assert result.returncode == 1
    assert "файл периода 2020Q3, а принимается 2020Q4" in " ".join(result.stdout.split())
    with open_ledger(str(round_ / "l.sqlite")) as ledger:
        assert ledger.counts()["submissions"] == 0


def test_a_region_not_issued_is_rejected_with_its_own_code(round_, make_return):
    make_return(round_ / "inbox", "78")  # the campaign issued 77 and 50 only
    result = cos_xl("intake", "inbox", "--db", "l.sqlite", "--dev-key", cwd=round_)
    assert result.returncode == 1
    with open_ledger(str(round_ / "l.sqlite")) as ledger:
        (sub,) = ledger.submissions(PERIOD, "78")
    assert sub.verdict == "FAIL" and "region-not-issued" in {f.code for f in sub.findings}


def test_a_known_file_under_another_key_is_reported(round_, make_return):
    path = make_return(round_ / "inbox", "77")
    assert cos_xl("intake", "inbox", "--db", "l.sqlite", "--dev-key", cwd=round_).returncode == 0
    (round_ / "k").write_text("k" * 40)
    result = cos_xl("intake", str(path), "--db", "l.sqlite", "--key-file", "k", cwd=round_)
    assert result.returncode == 1
    assert "другим ключом" in " ".join(result.stdout.split())


def test_unidentified_records_can_be_listed_and_removed(tmp_path, make_return):
    path = make_return(tmp_path / "inbox", "77")
    (tmp_path / "k").write_text("k" * 40)  # not the key it was signed with: unidentified
    assert cos_xl("intake", str(path), "--db", "l.sqlite", "--key-file", "k",
                  cwd=tmp_path).returncode == 1
    listing = cos_xl("ledger", "unidentified", "--db", "l.sqlite", cwd=tmp_path)
    assert "cos_2020Q3_77.xlsm" in listing.stdout and "1 файл" in listing.stdout
    with open_ledger(str(tmp_path / "l.sqlite")) as ledger:
        (kept,) = ledger.unattributed()
    assert "Нет неопознанных записей с номерами 999" in one_line_error(cos_xl(
        "ledger", "unidentified", "--db", "l.sqlite", "--remove", "999", cwd=tmp_path))
    removed = cos_xl("ledger", "unidentified", "--db", "l.sqlite", "--remove", str(kept.id),
                     cwd=tmp_path)
    assert removed.returncode == 0 and "Удалено записей: 1" in removed.stderr
    with open_ledger(str(tmp_path / "l.sqlite")) as ledger:
        assert ledger.unattributed_count() == 0 and ledger.counts()["blobs"] == 0
