"""Verdicts do not depend on what was validated before: a round's returns (the demo's 84, with
its typical mistakes, plus copies saved by LibreOffice and annotated copies) validated in random
orders in one process, in worker processes, and one by one in fresh processes give the same
JSON, file for file."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from cos_xl.demo.round import run_demo
from cos_xl.validate import memo
from cos_xl.validate.annotate import annotate
from cos_xl.validate.report import to_json
from cos_xl.validate.run import validate_file, validate_files
from helpers import DEV_KEY


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stateless")
    run_demo(folder / "demo")
    files = sorted((folder / "demo" / "returns").glob("*.xlsm"))
    back = folder / "annotated"
    for path in files[:: 12]:  # a few annotated copies: another sheet, styles, comments
        annotate(validate_file(path, DEV_KEY, allow_dev_key=True), back, DEV_KEY)
    return files + sorted(back.glob("*.xlsm"))


def judged(results) -> dict[str, dict]:
    out = {}
    for entry in to_json(list(results))["files"]:
        out[Path(entry.pop("path")).name] = entry
    return out


def one_by_one(paths: list[Path]) -> dict[str, dict]:
    return judged(validate_file(p, DEV_KEY, allow_dev_key=True) for p in paths)


def test_random_orders_and_workers_give_the_same_verdicts(corpus):
    memo.clear()
    reference = one_by_one(corpus)
    assert {e["verdict"] for e in reference.values()} == {"PASS", "PASS_WITH_WARNINGS", "FAIL"}
    rng = random.Random(2020)
    for _ in range(3):  # the memo keeps what the orders before left in it
        order = corpus[:]
        rng.shuffle(order)
        assert one_by_one(order) == reference
    parallel = judged(validate_files(corpus, DEV_KEY, allow_dev_key=True, workers=2))
    assert parallel == reference


MEASURE = """
import json, sys
from pathlib import Path
from cos_xl.signing import resolve_key
from cos_xl.validate.report import to_json
from cos_xl.validate.run import validate_file
result = validate_file(Path(sys.argv[1]), resolve_key(None, dev_key=True), allow_dev_key=True)
entry = to_json([result])["files"][0]
entry.pop("path")
print(json.dumps(entry, ensure_ascii=False))
"""


def test_a_fresh_process_gives_the_same_verdict(corpus):
    reference = one_by_one(corpus)
    for path in random.Random(7).sample(corpus, 6):
        out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True,
                             text=True, check=True, timeout=120).stdout
        assert json.loads(out) == reference[path.name], path.name
