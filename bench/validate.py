"""Benchmark: validation time per returned workbook (median, 95th percentile) and peak memory,
at 85 and 2,500 workbooks, against a naive openpyxl full-load reader measured in the same run.

    python bench/validate.py [--large 2500] [--naive-sample 200]

The 85 returns are real: every region's template filled and saved by LibreOffice headless. The
2,500 (municipal scale) are copies of those 85 under other names: the same work per file, not
2,500 distinct municipalities. Goal: <= 10 ms median per regional workbook, memory flat in the
number of files.

The 85-file measurement is repeated in ``--rounds`` fresh processes and pooled, as in
``bench/run.py`` (this VM's speed changes in phases about as long as one round of 85 files).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEASURE = r"""
import json, sys, time
from pathlib import Path
files = [Path(p) for p in json.loads(open(sys.argv[2]).read())]
mode = sys.argv[1]
times = []
if mode == "cos-xl":
    from cos_xl.signing import resolve_key
    from cos_xl.validate.run import validate_file
    key = resolve_key(None, dev_key=True)
    validate_file(files[0], key, allow_dev_key=True)  # imports, structure cache of the period
    for path in files:
        started = time.perf_counter()
        result = validate_file(path, key, allow_dev_key=True)
        times.append(time.perf_counter() - started)
        assert result.verdict != "FAIL", (path, [f.code for f in result.findings])
elif mode == "cos-xl-batch":  # throughput: validate_files with a worker per core
    from cos_xl.signing import resolve_key
    from cos_xl.validate.run import default_workers, validate_files
    key = resolve_key(None, dev_key=True)
    started = time.perf_counter()
    results = list(validate_files(files, key, allow_dev_key=True,
                                  workers=default_workers(len(files))))
    total = time.perf_counter() - started
    assert all(r.verdict != "FAIL" for r in results)
    times = [total / len(files)] * len(files)  # wall time per file
else:
    sys.path.insert(0, sys.argv[3])  # bench/
    from naive import naive_read
    naive_read(files[0])  # imports
    for path in files:
        started = time.perf_counter()
        naive_read(path)
        times.append(time.perf_counter() - started)
# VmHWM: this process's peak resident memory (ru_maxrss would include the parent's, which
# Linux keeps across fork and exec).
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"times": times, "peak_mib": int(hwm.split()[1]) / 1024}))
"""


def measure(mode: str, files: list[Path]) -> dict:
    listing = Path(tempfile.mkstemp(suffix=".json")[1])
    listing.write_text(json.dumps([str(p) for p in files]))
    out = subprocess.run([sys.executable, "-c", MEASURE, mode, str(listing),
                          str(Path(__file__).resolve().parent)],
                         check=True, capture_output=True, text=True)
    listing.unlink()
    return json.loads(out.stdout)


def make_returns(folder: Path) -> list[Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_validate_values import CLEAN  # the same plausible figures the tests use

    from cos_xl.generate import generate
    from cos_xl.office import LibreOffice
    from cos_xl.signing import resolve_key
    from cos_xl.spec import load_form

    form = load_form()
    templates = generate("2020Q3", folder / "templates", resolve_key(None, dev_key=True))
    values = {form.excel_name(k): v for k, v in CLEAN.items()}
    returns = []
    with LibreOffice() as lo:
        for path in templates.paths:
            target = folder / "returns" / path.name
            target.parent.mkdir(exist_ok=True)
            lo.process(path, set_values=values, save_as=target)
            returns.append(target)
    return returns


def row(label: str, count: int, result: dict, naive_median: float | None) -> str:
    times = sorted(result["times"])
    median = statistics.median(times) * 1000
    p95 = times[int(0.95 * (len(times) - 1))] * 1000
    ratio = f"{naive_median / median:8.1f}x" if naive_median else f"{'1.0x':>9}"
    return f"{label:44} {count:6d} {median:8.2f} {p95:8.2f} {result['peak_mib']:9.1f} {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=2500)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cos-bench-validate-"))
    try:
        started = time.perf_counter()
        returns = make_returns(work)
        prepared = time.perf_counter() - started
        large = []
        for i in range(args.large):
            source = returns[i % len(returns)]
            copy = work / "large" / f"{source.stem}_{i:05d}{source.suffix}"
            copy.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, copy)
            large.append(copy)
        naive85 = measure("naive", returns)
        naive_large = measure("naive", large[: args.naive_sample])
        rounds = [measure("cos-xl", returns) for _ in range(max(1, args.rounds))]
        ours85 = {"times": [t for r in rounds for t in r["times"]],
                  "peak_mib": max(r["peak_mib"] for r in rounds)}
        ours_large = measure("cos-xl", large)
        batch_large = measure("cos-xl-batch", large)
        n85 = statistics.median(naive85["times"]) * 1000
        nl = statistics.median(naive_large["times"]) * 1000
        print(f"# validate: {len(returns)} returns filled and saved by LibreOffice in "
              f"{prepared:.0f} s; 2 cores")
        print(f"{'reader':44} {'files':>6} {'med ms':>8} {'p95 ms':>8} {'peak MiB':>9} "
              f"{'vs naive':>9}")
        print(row(f"cos-xl validate (all checks), {len(rounds)} processes", len(returns), ours85,
                  n85))
        print(row("cos-xl validate (all checks)", len(large), ours_large, nl))
        print(row("cos-xl validate_files, a worker per core (wall/file)", len(large),
                  batch_large, nl))
        print(row("naive openpyxl full load (values only)", len(returns), naive85, None))
        print(row(f"naive openpyxl, sample of {len(naive_large['times'])}", args.large,
                  naive_large, None))
        median = statistics.median(ours85["times"]) * 1000
        print("medians of the single processes at 85: " + ", ".join(
            f"{statistics.median(r['times']) * 1000:.2f}" for r in rounds) + " ms")
        flat = ours_large["peak_mib"] <= ours85["peak_mib"] * 1.25
        print(f"goal: median <= 10 ms -> {median:.2f} ms ({'met' if median <= 10 else 'NOT met'}); "
              f"memory flat ({ours85['peak_mib']:.0f} -> {ours_large['peak_mib']:.0f} MiB: "
              f"{'met' if flat else 'NOT met'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
