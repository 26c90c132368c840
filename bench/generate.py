"""Benchmark: generate every regional workbook of a period, against a naive openpyxl baseline
measured in the same run.

    python bench/generate.py [--period 2020Q3] [--workers N] [--baseline-count 85]

The baseline writes the same workbook the naive way: openpyxl loads a generated template and
saves one copy per region with the region's cells changed (openpyxl cannot author the template
itself: it drops what it does not understand, see DESIGN.md). Goal: 85 workbooks in <= 1.5 s.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

import openpyxl

from cos_xl.generate import default_workers, generate
from cos_xl.periods import Period
from cos_xl.regions import regions_for_period
from cos_xl.signing import resolve_key


def naive_openpyxl(template: Path, out_dir: Path, period: Period, count: int) -> float:
    regions = regions_for_period(period.year, period.quarter)[:count]
    started = time.perf_counter()
    for region in regions:
        wb = openpyxl.load_workbook(template, keep_vba=True)
        ws = wb["Титул"]
        ws["B4"] = region.full_name
        ws["B5"] = region.code
        ws["B6"] = region.federal_district
        wb.save(out_dir / f"naive_{region.code}{template.suffix}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="2020Q3")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--baseline-count", type=int, default=85)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    period = Period.parse(args.period)
    key = resolve_key(None, dev_key=True)
    work = Path(tempfile.mkdtemp(prefix="cos-bench-"))
    try:
        cold = generate(period, work / "cold", key, workers=1)
        rows = [("cos-xl generate, first run in a process", len(cold.paths), cold.seconds)]
        variants = [("cos-xl generate (skeleton + per-region fill)", "fast", True, 1)]
        variants += [(f"cos-xl full build per region, {w} worker(s)", f"full{w}", False, w)
                     for w in sorted({1, args.workers})]
        for label, folder, fast, workers in variants:
            best = min(generate(period, work / folder, key, workers=workers, fast=fast).seconds
                       for _ in range(args.repeat))
            count = len(list((work / folder).glob("*.xls*")))
            rows.append((label, count, best))
        template = work / "fast" / f"cos_{period}_77.xlsm"
        naive_dir = work / "naive"
        naive_dir.mkdir()
        naive = naive_openpyxl(template, naive_dir, period, args.baseline_count)
        rows.append(("naive openpyxl load+save per region", args.baseline_count, naive))
        naive_per = naive / args.baseline_count
        print(f"# generate: {platform.processor() or platform.machine()}, "
              f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}")
        print(f"{'method':48} {'files':>5} {'total s':>8} {'ms/file':>8} {'vs naive':>9}")
        for name, count, seconds in rows:
            per = seconds / count
            print(f"{name:48} {count:5d} {seconds:8.2f} {per * 1000:8.1f} "
                  f"{naive_per / per:8.1f}x")
        verdict = "met" if cold.seconds <= 1.5 else "NOT met"
        print(f"goal: all regional workbooks in <= 1.5 s, first run in a process -> "
              f"{cold.seconds:.2f} s ({verdict})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
