"""Benchmark: intake into the ledger (validate, store bytes and version, one transaction per
file) — total time, time per file and peak memory at 85 and 2,500 submissions — against a naive
intake measured in the same run: openpyxl full load of each file plus one row inserted (and
committed) per file into SQLite.

    python bench/intake.py [--large 2500] [--naive-sample 300] [--pg postgresql://…]

The 85 returns are every region's 2020Q3 template filled with openpyxl (the figures of the
tests). The 2,500 are those 85 sent again and again — each copy made distinct by a ZIP comment,
so every one is a new version (regions at ~30 versions): the same work per file as a real
return. The naive intake of 2,500 is measured on a sample and extrapolated. PostgreSQL runs
when a server is given (--pg, else $COS_XL_TEST_PG_URL), in a fresh schema.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MEASURE = r"""
import json, sys, time
from pathlib import Path
mode, url, listing = sys.argv[1], sys.argv[2], sys.argv[3]
files = [Path(p) for p in json.loads(open(listing).read())]
times = []
started = time.perf_counter()
if mode == "cos-xl":
    from cos_xl.ledger import open_ledger
    from cos_xl.signing import resolve_key
    with open_ledger(url, create=True) as ledger:
        outcomes = ledger.intake(files, resolve_key(None, dev_key=True), allow_dev_key=True,
                                 on_outcome=lambda o: times.append(o.seconds))
    assert all(o.status == "new" and o.accepted for o in outcomes), [
        (o.path.name, o.message) for o in outcomes if not o.accepted][:3]
else:
    sys.path.insert(0, sys.argv[4])  # bench/
    from naive import naive_intake
    times = naive_intake(files, url)
total = time.perf_counter() - started
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"times": times, "total": total, "peak_mib": int(hwm.split()[1]) / 1024}))
"""


def measure(mode: str, url: str, files: list[Path], work: Path) -> dict:
    listing = work / f"listing-{uuid.uuid4().hex}.json"
    listing.write_text(json.dumps([str(p) for p in files]))
    out = subprocess.run([sys.executable, "-c", MEASURE, mode, url, str(listing),
                          str(Path(__file__).resolve().parent)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def _fill(args: tuple[str, str]) -> str:
    """Write the clean figures into one template's input cells (openpyxl keeps the VBA)."""
    import openpyxl

    sys.path.insert(0, str(ROOT / "tests"))
    from test_validate_values import CLEAN

    from cos_xl.validate.reader import read_returned, split_address
    template, target = map(Path, args)
    manifest = read_returned(template).manifest
    wb = openpyxl.load_workbook(template, keep_vba=True)
    for input_id, value in CLEAN.items():
        sheet, row, col = split_address(manifest["inputs"][input_id])
        wb[sheet].cell(row + 1, col + 1, value)
    wb.save(target)
    return str(target)


def make_returns(work: Path) -> list[Path]:
    from cos_xl.generate import generate
    from cos_xl.signing import resolve_key
    templates = generate("2020Q3", work / "templates", resolve_key(None, dev_key=True))
    (work / "returns").mkdir()
    jobs = [(str(p), str(work / "returns" / p.name)) for p in templates.paths]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        return [Path(p) for p in pool.map(_fill, jobs)]


def resubmissions(returns: list[Path], count: int, folder: Path) -> list[Path]:
    folder.mkdir()
    copies = []
    for i in range(count):
        source = returns[i % len(returns)]
        copy = folder / f"{source.stem}_{i:05d}{source.suffix}"
        shutil.copyfile(source, copy)
        with zipfile.ZipFile(copy, "a") as archive:
            archive.comment = f"resent {i}".encode()
        copies.append(copy)
    return copies


def pg_schema_url(server: str) -> tuple[str, callable]:
    import sqlalchemy as sa

    from cos_xl.ledger.db import ledger_url
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(ledger_url(server))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options=-csearch_path%3D{schema}", drop


def row(label: str, count: int, result: dict, naive_per_file: float | None) -> str:
    per_file = result["total"] / len(result["times"]) * 1000
    total = per_file * count / 1000
    median = statistics.median(result["times"]) * 1000
    ratio = f"{naive_per_file / per_file:8.1f}x" if naive_per_file else f"{'1.0x':>9}"
    return (f"{label:44} {count:6d} {total:8.1f} {per_file:8.1f} {median:8.1f} "
            f"{result['peak_mib']:9.1f} {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=2500)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--pg", default=os.environ.get("COS_XL_TEST_PG_URL"),
                        help="PostgreSQL server URL (default: $COS_XL_TEST_PG_URL)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cos-bench-intake-"))
    cleanups = []
    try:
        started = time.perf_counter()
        returns = make_returns(work)
        large = resubmissions(returns, args.large, work / "large")
        prepared = time.perf_counter() - started
        results = []  # (label, count, result, naive label)
        for backend in ("sqlite", "postgresql") if args.pg else ("sqlite",):
            for files, tag in ((returns, "85"), (large, "large")):
                if backend == "sqlite":
                    url = f"sqlite:///{work / f'ledger-{tag}.sqlite'}"
                else:
                    url, drop = pg_schema_url(args.pg)
                    cleanups.append(drop)
                results.append((f"cos-xl intake, {backend}", len(files),
                                measure("cos-xl", url, files, work), tag))
        naive85 = measure("naive", str(work / "naive-85.sqlite"), returns, work)
        naive_large = measure("naive", str(work / "naive-large.sqlite"),
                              large[: args.naive_sample], work)
        naive = {"85": naive85["total"] / len(returns) * 1000,
                 "large": naive_large["total"] / len(naive_large["times"]) * 1000}
        print(f"# intake: {len(returns)} returns filled with openpyxl and {args.large} "
              f"resubmissions prepared in {prepared:.0f} s; {os.cpu_count()} cores")
        print(f"{'method':44} {'files':>6} {'total s':>8} {'ms/file':>8} {'med ms':>8} "
              f"{'peak MiB':>9} {'vs naive':>9}")
        for label, count, result, tag in results:
            print(row(label, count, result, naive[tag]))
        print(row("naive openpyxl load + row insert, sqlite", len(returns), naive85, None))
        print(row(f"naive, sample of {len(naive_large['times'])} (total extrapolated)",
                  args.large, naive_large, None))
    finally:
        for drop in cleanups:
            drop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
