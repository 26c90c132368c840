"""The ledger under several processes at once, and under a process killed midway (SIGKILL), on
SQLite and on PostgreSQL: nothing reported as stored is lost, no version is given twice, and
a rerun completes the rest without duplicates."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from cos_xl.ledger import open_ledger
from cos_xl.ledger.schema import blobs, receipts, submissions

REGIONS = ["01", "10", "50", "77", "78", "91"]
VARIANTS = [None, {"e40107": 3_000}, {"e403_go": 2_000_000}]  # the last one fails
# One intake in a process of its own, reporting each outcome as a JSON line once it is stored.
DRIVER = r"""
import json, os, signal, sys
from pathlib import Path
from sqlalchemy import event
from cos_xl.ledger import open_ledger
from cos_xl.signing import resolve_key

def report(o):
    print(json.dumps({"path": str(o.path), "status": o.status, "version": o.version,
                      "region": o.region_code, "sha256": o.sha256}), flush=True)

with open_ledger(sys.argv[1], create=True) as ledger:
    die_at = int(os.environ.get("DIE_AT_RECEIPT", "0"))
    if die_at:  # SIGKILL inside the die_at-th file's transaction, after its version is written
        seen = []

        def die(conn, cursor, statement, *args):
            if statement.startswith("INSERT INTO receipts"):
                seen.append(1)
                if len(seen) == die_at:
                    os.kill(os.getpid(), signal.SIGKILL)
        event.listen(ledger.engine, "before_cursor_execute", die)
    ledger.intake([Path(p) for p in sys.argv[2:]], resolve_key(None, dev_key=True),
                  allow_dev_key=True, on_outcome=report)
"""


@pytest.fixture(scope="module")
def returns(make_return, tmp_path_factory) -> list[Path]:
    """Three versions (two accepted, one rejected) of six regions' returns: 18 files."""
    folder = tmp_path_factory.mktemp("concurrent")
    return [make_return(folder / str(i), region, changes)
            for region in REGIONS for i, changes in enumerate(VARIANTS)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start(url: str, files: list[Path], die_at_receipt: int = 0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, url, *map(str, files)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1],
                            env={**os.environ, "DIE_AT_RECEIPT": str(die_at_receipt)})


def check_consistent(url: str) -> dict[str, dict[int, str]]:
    """The invariants of a ledger; returns region -> {version: sha256}."""
    with open_ledger(url) as ledger, ledger.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        rows = conn.execute(sa.select(submissions.c.region_code, submissions.c.period,
                                      submissions.c.version, submissions.c.sha256)).all()
        stored = {row.sha256: row.data for row in conn.execute(sa.select(blobs))}
        orphans = conn.execute(sa.select(sa.func.count()).select_from(receipts).where(
            receipts.c.submission_id.not_in(sa.select(submissions.c.id)))).scalar()
    assert orphans == 0
    versions: dict[str, dict[int, str]] = defaultdict(dict)
    for row in rows:
        assert row.period == "2020Q3" and row.version not in versions[row.region_code]
        versions[row.region_code][row.version] = row.sha256
        assert hashlib.sha256(stored[row.sha256]).hexdigest() == row.sha256
    for region, by_version in versions.items():
        assert sorted(by_version) == list(range(1, len(by_version) + 1)), region
        assert len(set(by_version.values())) == len(by_version), region
    assert set(stored) == {row.sha256 for row in rows}
    return versions


def test_several_processes_take_in_overlapping_files_at_once(ledger_url, returns):
    """Four intakes start together on a new ledger (so they race to create the schema too),
    each with all 18 files in its own order."""
    orders = [random.Random(seed).sample(returns, len(returns)) for seed in range(4)]
    processes = [start(ledger_url, order) for order in orders]
    reported = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        reported += [json.loads(line) for line in out.splitlines()]
    assert len(reported) == 4 * len(returns)
    assert all(r["status"] in ("new", "duplicate") for r in reported)
    new = [r for r in reported if r["status"] == "new"]
    assert sorted(r["sha256"] for r in new) == sorted(map(digest, returns))  # each once
    versions = check_consistent(ledger_url)
    assert {region: len(v) for region, v in versions.items()} == {r: 3 for r in REGIONS}
    for r in reported:  # a duplicate names the version its bytes were stored as
        assert versions[r["region"]][r["version"]] == r["sha256"]
    with open_ledger(ledger_url) as ledger:
        assert ledger.counts() == {"blobs": 18, "submissions": 18, "receipts": 72}


def test_an_intake_killed_midway_loses_nothing_it_reported(ledger_url, returns):
    """One intake of the whole batch kills itself inside the fourth file's transaction (its
    version written, not committed); three more are killed (SIGKILL) from outside at other
    points; a last one completes the batch."""
    reported: dict[str, int] = {}  # sha256 -> version, as reported by any run
    rng = random.Random(5)
    process = start(ledger_url, returns, die_at_receipt=4)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    for item in map(json.loads, out.splitlines()):
        reported[item["sha256"]] = item["version"]
    assert sorted(reported) == sorted(map(digest, returns[:3]))
    versions = check_consistent(ledger_url)
    assert sorted(sha for v in versions.values() for sha in v.values()) == sorted(reported)

    for stop_after in (2, 7, 11):
        process = start(ledger_url, returns)
        lines = []
        while len(lines) < stop_after:
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        time.sleep(rng.uniform(0, 0.08))  # somewhere inside the next file's work
        os.kill(process.pid, signal.SIGKILL)
        out, _ = process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        for item in map(json.loads, lines + out.splitlines()):
            assert reported.setdefault(item["sha256"], item["version"]) == item["version"]
        versions = check_consistent(ledger_url)
        stored = {sha: v for by_version in versions.values() for v, sha in by_version.items()}
        assert all(stored.get(sha) == version for sha, version in reported.items())

    process = start(ledger_url, returns)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    final = [json.loads(line) for line in out.splitlines()]
    assert len(final) == len(returns)
    for item in final:
        if item["sha256"] in reported:
            assert (item["status"], item["version"]) == ("duplicate", reported[item["sha256"]])
    versions = check_consistent(ledger_url)
    assert sorted(sha for v in versions.values() for sha in v.values()) == sorted(
        map(digest, returns))
