"""Benchmark suite: generation, validation, intake and consolidation at 85 regions, 2,500 workbooks
(municipal scale) and 40,000 workbooks (school scale, validation only) — time, peak memory and
the ratio against naive openpyxl-based baselines measured in the same run — in one table.

    python bench/run.py [--quick] [--scales 85,2500,40000] [--json PATH]

Every measurement runs in a fresh subprocess; its peak memory is that process's VmHWM (peak
resident set; ``ru_maxrss`` would include the parent's). For ``validate_files`` with worker
processes the table gives the parent's VmHWM and, separately, the largest worker's (workers are
forked; a poller reads their VmHWM from /proc while they live).

What the workbooks are
----------------------
* 85: the 85 regional templates of 2020Q3 (``cos_xl.generate``, dev key), each filled with the
  SYNTHETIC figures of ``cos_xl.demo.sample.sample_inputs`` (and the explanations of
  ``sample_explanations``) by ``cos_xl.fill.fill_workbook``: input cells typed, formula
  caches computed as an office program would, no office program involved.
* 2,500: 2,500 *distinct* filled returns made the same way from the templates of successive
  periods — 2020Q3, 2020Q4, … (85 regions per period before 2023, 89 from 2023), as many periods
  as needed, the last one partly (its first regions by code). Every file is a real return of
  its own region and period with its own figures; the generation at 2,500 is the generation of
  exactly these templates (without previous-period figures prefilled, i.e. the skeleton path of
  ``generate``).
* 40,000 (validation only): 40,000 names, each a hard link (``os.link``) to one of the 2,500
  distinct files (16 names per file), not 40,000 distinct workbooks: the bytes of the files are
  the same, so the operating system's page cache holds them all (~160 MB) and the reads are
  warm. Validated with ``validate_files`` (a worker process per core, as the library chooses),
  wall time per file; plus a single-process median/p95 per file on a random sample of ~2,000
  names that link to ~2,000 different files. The names cycle through the 2,500 files in order,
  so a file's bytes come back only after 2,499 others: the validator's per-file caches (bounded,
  at most a few hundred entries) cannot serve a repeat.

Baselines (naive, openpyxl), each in the same run
-------------------------------------------------
* generation: ``bench/generate.py``'s ``naive_openpyxl`` — load a generated template with
  openpyxl and save one copy per region with the title cells changed (openpyxl cannot author
  the template itself); measured on 85 files, per file extrapolated to 2,500.
* validation: openpyxl full load of each return and its inputs read through the manifest, as
  ``bench/validate.py`` — no checks at all, so the ratio understates the difference in work.
* intake: openpyxl full load + one row inserted and committed per file into SQLite, as
  ``bench/intake.py``.
* consolidation: ``bench/consolidate.py``'s two baselines, with its inputs (seeded synthetic
  ``Submission`` records from tests/consolidate_synth.py: the 85 regions of 2020Q3, and 2,500
  municipal units): values in memory + openpyxl writes the workbook (the ratio column), and
  openpyxl reads every returned file (here: this run's 85 filled returns of 2020Q3) + writes
  (in the notes).
At 2,500 and 40,000 a naive baseline is measured on a sample of files spread over the whole set
and extrapolated per file; such rows say "sample of N".

Goals printed with the figures: generation of the 85 regional workbooks in <= 1.5 s (first run in
a process), validation <= 10 ms median per workbook with memory flat in the number of files,
consolidation of 85 regions in <= 1 s (first run in a process, workbook written).

The 85-file validation (the goal's round) is run ``--rounds`` times, each in a fresh process, and
its row pools their timings: this VM's speed changes in phases of a fraction of a second to
seconds (the same pure-Python loop takes 1x or 1.7-1.9x its best time), and one round of 85 files
lasts about one second, so a single round measures mostly which phase it fell in. The medians of
the single rounds are printed too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))  # bench/generate.py, bench/consolidate.py, bench/naive.py

from naive import naive_intake, naive_read  # noqa: E402 (bench/ is on the path only from here)

FIRST_PERIOD = "2020Q3"
DISTINCT = 2500
NAIVE_SAMPLE = 200        # files read by a naive baseline at 2,500 (and per file for 40,000)
SINGLE_SAMPLE = 2000      # names of the 40,000 validated one by one in a single process
GOAL_GENERATE_S = 1.5
GOAL_VALIDATE_MS = 10.0
GOAL_CONSOLIDATE_S = 1.0
FLAT = 1.25               # "memory flat": peak at most 25 % above the smaller scale's


# --- measurements, each run in a fresh process: python bench/run.py --measure MODE --spec F ----

def _status_kib(pid: str | int, field: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        line = next(line for line in handle if line.startswith(field + ":"))
    return int(line.split()[1])


def _peak_mib() -> float:
    return _status_kib("self", "VmHWM") / 1024


class ChildPeaks:
    """Polls the VmHWM of this process's children (the forked workers) while they live."""

    def __init__(self, every: float = 0.2) -> None:
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, every: float) -> None:
        me = os.getpid()
        while not self._stop.wait(every):
            try:
                tasks = os.listdir(f"/proc/{me}/task")
            except OSError:
                continue
            for task in tasks:
                try:
                    with open(f"/proc/{me}/task/{task}/children") as handle:
                        kids = handle.read().split()
                except OSError:
                    continue
                for kid in kids:
                    try:
                        self.peaks[kid] = max(self.peaks.get(kid, 0), _status_kib(kid, "VmHWM"))
                    except (OSError, StopIteration, ValueError):
                        pass

    @property
    def max_mib(self) -> float | None:
        return max(self.peaks.values()) / 1024 if self.peaks else None


def _measure_generate(spec: dict) -> dict:
    """cos-xl generation of the given periods (period, region codes or None), in order; the
    first generate() call of the process is reported apart (imports timed separately)."""
    started = time.perf_counter()
    from cos_xl.generate import generate
    from cos_xl.signing import resolve_key
    key = resolve_key(None, dev_key=True)
    imports = time.perf_counter() - started
    out = Path(spec["out"])
    calls, count = [], 0
    started = time.perf_counter()
    for period, regions in spec["periods"]:
        t = time.perf_counter()
        result = generate(period, out / period, key, regions=regions)
        calls.append(time.perf_counter() - t)
        count += len(result.paths)
    total = time.perf_counter() - started
    warm = []
    for i in range(spec.get("warm_repeats", 0)):  # the first period again, same process
        t = time.perf_counter()
        generate(spec["periods"][0][0], out / f"warm{i}", key, regions=spec["periods"][0][1])
        warm.append(time.perf_counter() - t)
    return {"total": total, "count": count, "first_call": calls[0], "imports": imports,
            "warm_best": min(warm) if warm else None, "peak_mib": _peak_mib()}


def _measure_generate_naive(spec: dict) -> dict:
    from generate import naive_openpyxl  # bench/generate.py

    from cos_xl.periods import Period
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    total = naive_openpyxl(Path(spec["template"]), out, Period.parse(spec["period"]),
                           spec["count"])
    return {"total": total, "count": spec["count"], "peak_mib": _peak_mib()}


def _measure_validate(spec: dict) -> dict:
    """One process, validate_file on each file in turn (the first file once more before, not
    timed: imports and the period's structure cache), as bench/validate.py."""
    from cos_xl.signing import resolve_key
    from cos_xl.validate.run import validate_file
    files = [Path(p) for p in spec["files"]]
    key = resolve_key(None, dev_key=True)
    validate_file(files[0], key, allow_dev_key=True)
    times, verdicts = [], Counter()
    started = time.perf_counter()
    for path in files:
        t = time.perf_counter()
        result = validate_file(path, key, allow_dev_key=True)
        times.append(time.perf_counter() - t)
        verdicts[result.verdict] += 1
    total = time.perf_counter() - started
    return {"times": times, "total": total, "count": len(files), "verdicts": verdicts,
            "peak_mib": _peak_mib()}


def _measure_validate_batch(spec: dict) -> dict:
    """validate_files over all the files with the library's default worker count; the results
    are consumed as they come (counted, not kept)."""
    from cos_xl.signing import resolve_key
    from cos_xl.validate.run import default_workers, validate_files
    # The paths as the strings read from the spec: validate_files makes its own list of Path
    # objects; a second one here (~18 MiB at 40,000) would be the harness's memory, not its.
    files = spec.pop("files")
    key = resolve_key(None, dev_key=True)
    workers = default_workers(len(files))
    verdicts = Counter()
    with ChildPeaks() as children:
        started = time.perf_counter()
        for result in validate_files(files, key, allow_dev_key=True, workers=workers):
            verdicts[result.verdict] += 1
        total = time.perf_counter() - started
    return {"total": total, "count": len(files), "workers": workers, "verdicts": verdicts,
            "peak_mib": _peak_mib(), "worker_peak_mib": children.max_mib}


def _measure_validate_naive(spec: dict) -> dict:
    files = [Path(p) for p in spec["files"]]
    naive_read(files[0])  # imports, as the cos-xl measurement's warm-up
    times = []
    started = time.perf_counter()
    for path in files:
        t = time.perf_counter()
        naive_read(path)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    return {"times": times, "total": total, "count": len(files), "peak_mib": _peak_mib()}


def _measure_intake(spec: dict) -> dict:
    """The ledger's intake of the files, in order, into a fresh SQLite ledger."""
    started = time.perf_counter()
    from cos_xl.ledger import open_ledger
    from cos_xl.signing import resolve_key
    times: list[float] = []
    with open_ledger(spec["url"], create=True) as ledger:
        opened = time.perf_counter() - started
        started = time.perf_counter()
        outcomes = ledger.intake([Path(p) for p in spec["files"]], resolve_key(None, dev_key=True),
                                 allow_dev_key=True, on_outcome=lambda o: times.append(o.seconds))
        total = time.perf_counter() - started
    bad = [(o.path.name, o.status, o.message) for o in outcomes
           if o.status != "new" or not o.accepted]
    return {"times": times, "total": total, "count": len(outcomes), "open_s": opened,
            "verdicts": Counter(o.verdict if o.status == "new" else o.status
                                for o in outcomes), "not_accepted": bad[:5],
            "peak_mib": _peak_mib()}


def _measure_intake_naive(spec: dict) -> dict:
    """As bench/intake.py: openpyxl full load + one row inserted and committed per file."""
    files = [Path(p) for p in spec["files"]]
    started = time.perf_counter()
    times = naive_intake(files, spec["url"])
    total = time.perf_counter() - started
    return {"times": times, "total": total, "count": len(files), "peak_mib": _peak_mib()}


MODES = {
    "generate": _measure_generate,
    "generate-naive": _measure_generate_naive,
    "validate": _measure_validate,
    "validate-batch": _measure_validate_batch,
    "validate-naive": _measure_validate_naive,
    "intake": _measure_intake,
    "intake-naive": _measure_intake_naive,
}


def measure(mode: str, spec: dict, work: Path) -> dict:
    """Run one measurement in a fresh Python process; its JSON result."""
    spec_path = work / f"spec-{mode}-{time.perf_counter_ns()}.json"
    spec_path.write_text(json.dumps(spec))
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", mode,
                           "--spec", str(spec_path)], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    spec_path.unlink()
    if done.returncode != 0:
        raise SystemExit(f"measurement {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- setup: templates, filled returns, links -------------------------------------------------

def plan_periods(count: int) -> list[tuple[str, list[str] | None]]:
    """Successive periods from 2020Q3 with their regions until ``count`` workbooks; the last
    period partly (its first regions by code). None = every region of the period."""
    from cos_xl.periods import Period
    from cos_xl.regions import regions_for_period
    period, left, plan = Period.parse(FIRST_PERIOD), count, []
    while left > 0:
        codes = [r.code for r in regions_for_period(period.year, period.quarter)]
        plan.append((str(period), None if left >= len(codes) else codes[:left]))
        left -= min(left, len(codes))
        period = Period(period.year + 1, 1) if period.quarter == 4 else Period(
            period.year, period.quarter + 1)
    return plan


def _fill_period(job: tuple[str, str, str]) -> list[str]:
    """Fill every template of one period with the synthetic figures; the paths written."""
    from cos_xl.fill import fill_workbook
    from cos_xl.demo.sample import sample_explanations, sample_inputs
    period, templates, out = job
    values = sample_inputs(period, seed=0)
    explanations = sample_explanations(period, values, seed=0)
    written = []
    for template in sorted(Path(templates).glob("*.xls*")):
        code = template.stem.rsplit("_", 1)[-1]
        target = Path(out) / template.name
        target.write_bytes(fill_workbook(template.read_bytes(), values[code],
                                         explanations.get(code)))
        written.append(str(target))
    return written


def fill_returns(plan: list, templates: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(period, str(templates / period), str(out)) for period, _ in plan]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        return [Path(p) for written in pool.map(_fill_period, jobs) for p in written]


def hard_links(files: list[Path], count: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    links = []
    for i in range(count):
        source = files[i % len(files)]
        link = folder / f"school_{i:05d}_{source.name}"
        os.link(source, link)
        links.append(link)
    return links


def spread(files: list, count: int) -> list:
    """``count`` items evenly spread over ``files`` (all of them when there are fewer)."""
    if count >= len(files):
        return list(files)
    return [files[i * len(files) // count] for i in range(count)]


# --- the table ---------------------------------------------------------------------------------

def pooled(runs: list[dict]) -> dict:
    """The measurements of the same files in several fresh processes as one: all timings,
    the mean total, the highest peak, and each run's median."""
    return {"times": [t for run in runs for t in run["times"]],
            "total": statistics.mean(run["total"] for run in runs),
            "count": runs[0]["count"], "verdicts": runs[0]["verdicts"],
            "peak_mib": max(run["peak_mib"] for run in runs), "runs": len(runs),
            "round_medians_ms": [statistics.median(run["times"]) * 1000 for run in runs]}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[int(q * (len(ordered) - 1))]


class Table:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, stage: str, scale: str, method: str, files: int, total: float | None, *,
            per_file: float | None = None, times: list[float] | None = None,
            peak: float | None = None, naive_per_file: float | None = None,
            goal: str = "", extra: dict | None = None) -> dict:
        per_file = per_file if per_file is not None else (
            total / files if total is not None and files else None)
        row = {"stage": stage, "scale": scale, "method": method, "files": files,
               "total_s": total, "per_file_ms": per_file * 1000 if per_file is not None else None,
               "median_ms": statistics.median(times) * 1000 if times else None,
               "p95_ms": pct(times, 0.95) * 1000 if times else None,
               "peak_mib": peak,
               "vs_naive": naive_per_file / per_file if naive_per_file and per_file else None,
               "goal": goal, **(extra or {})}
        self.rows.append(row)
        return row

    def text(self) -> str:
        head = (f"{'stage':13} {'scale':>6} {'method':67} {'files':>6} {'total s':>8} "
                f"{'ms/file':>8} {'med ms':>7} {'p95 ms':>7} {'peak MiB':>13} {'vs naive':>8}"
                "  goal")
        lines = [head, "-" * len(head)]
        stage = None
        for r in self.rows:
            if stage is not None and r["stage"] != stage:
                lines.append("")
            stage = r["stage"]

            def f(value, spec, width):
                return f"{value:{width}{spec}}" if value is not None else f"{'—':>{width}}"
            ratio = "{:.1f}x".format(r["vs_naive"]) if r["vs_naive"] else "—"
            peak = f(r["peak_mib"], ".0f", 5) if r["peak_mib"] is not None else f"{'—':>5}"
            if r.get("worker_peak_mib") is not None:
                peak += f" +w{r['worker_peak_mib']:.0f}"
            lines.append(
                f"{r['stage']:13} {r['scale']:>6} {r['method']:67} {r['files']:6d} "
                f"{f(r['total_s'], '.2f', 8)} {f(r['per_file_ms'], '.2f', 8)} "
                f"{f(r['median_ms'], '.2f', 7)} {f(r['p95_ms'], '.2f', 7)} {peak:>13} "
                f"{ratio:>8}  {r['goal']}")
        return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# --- the run -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="85,2500,40000",
                        help="comma-separated workbook counts (default 85,2500,40000); scales "
                             "above --distinct are validation only")
    parser.add_argument("--quick", action="store_true", help="85 and 2,500 only (no 40,000)")
    parser.add_argument("--distinct", type=int, default=DISTINCT,
                        help="distinct filled returns made (default 2500); larger scales are "
                             "hard links to them")
    parser.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE)
    parser.add_argument("--single-sample", type=int, default=SINGLE_SAMPLE)
    parser.add_argument("--repeat", type=int, default=3, help="consolidation repeats")
    parser.add_argument("--rounds", type=int, default=5,
                        help="fresh processes for the 85-file validation (pooled)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = MODES[args.measure](json.loads(Path(args.spec).read_text()))
        print(json.dumps(result))
        return
    scales = sorted({int(x) for x in args.scales.split(",") if x.strip()})
    if args.quick:
        scales = [s for s in scales if s <= args.distinct] or [85, args.distinct]
    if 85 not in scales:
        scales = [85, *scales]  # the goals are stated for 85
    run(args, scales)


def run(args: argparse.Namespace, scales: list[int]) -> None:
    began = time.perf_counter()
    load_start = loadavg()
    work = Path(tempfile.mkdtemp(prefix="cos-bench-run-"))
    full = [s for s in scales if s <= args.distinct]       # every stage
    school = [s for s in scales if s > args.distinct]      # validation only
    distinct = max(full) if not school else max(args.distinct, max(full))
    table, notes, goals = Table(), [], []

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f} s] {text}", file=sys.stderr, flush=True)

    def sc(n: int) -> str:
        return f"{n:,}".replace(",", " ") if n < 10000 else f"{n // 1000}k"

    try:
        from cos_xl.periods import Period
        plan = plan_periods(distinct)
        say(f"work folder {work}; {distinct} distinct workbooks over {len(plan)} periods "
            f"({plan[0][0]}..{plan[-1][0]}); scales {scales}; load {load_start}")

        # --- generation ---------------------------------------------------------------------
        gen = {}
        for n in full:
            sub = plan_periods(n)
            out = work / ("templates" if n == distinct else f"templates-{n}")
            gen[n] = measure("generate", {"periods": sub, "out": str(out),
                                          "warm_repeats": 3 if n == 85 else 0}, work)
            say(f"generate {n}: {gen[n]['total']:.2f} s")
        if distinct not in gen:
            gen[distinct] = measure("generate", {"periods": plan, "out": str(work / "templates")},
                                    work)
        template = next((work / "templates" / FIRST_PERIOD).glob("*_77.xls*"))
        naive_gen = measure("generate-naive", {"template": str(template), "period": FIRST_PERIOD,
                                               "count": 85, "out": str(work / "naive-gen")}, work)
        shutil.rmtree(work / "naive-gen", ignore_errors=True)
        naive_gen_per = naive_gen["total"] / naive_gen["count"]
        say(f"naive generate 85: {naive_gen['total']:.2f} s")
        for n in full:
            g = gen[n]
            goal = ""
            if n == 85:
                goal = (f"<= {GOAL_GENERATE_S} s first run: {g['first_call']:.2f} s "
                        f"{verdict(g['first_call'] <= GOAL_GENERATE_S)}")
                goals.append({"goal": f"generation of 85 <= {GOAL_GENERATE_S} s, first run in a "
                                      "process", "value_s": g["first_call"],
                              "met": g["first_call"] <= GOAL_GENERATE_S})
                table.add("generation", sc(n), "cos-xl generate, first run in a process", n,
                          g["first_call"], peak=g["peak_mib"], naive_per_file=naive_gen_per,
                          goal=goal, extra={"imports_s": g["imports"]})
                table.add("generation", sc(n), "cos-xl generate, again in that process (best of 3)",
                          n, g["warm_best"], naive_per_file=naive_gen_per)
                notes.append(f"generation: importing cos_xl.generate took {g['imports']:.2f} s "
                             f"before the first run (not in the first-run time)")
            else:
                table.add("generation", sc(n), f"cos-xl generate, {len(plan_periods(n))} periods "
                          "in one process", n, g["total"], peak=g["peak_mib"],
                          naive_per_file=naive_gen_per)
        for n in full:
            if n == 85:
                table.add("generation", sc(n), "naive openpyxl load + save per region", 85,
                          naive_gen["total"], peak=naive_gen["peak_mib"])
            else:
                table.add("generation", sc(n), "naive openpyxl, sample of 85 (per file x "
                          f"{n})", n, naive_gen_per * n, per_file=naive_gen_per)

        # --- filled returns, links ------------------------------------------------------------
        t = time.perf_counter()
        returns = fill_returns(plan, work / "templates", work / "returns")
        assert len(returns) == distinct, (len(returns), distinct)
        order = {str(Period.parse(p)): i for i, (p, _) in enumerate(plan)}
        returns.sort(key=lambda p: (order[p.stem.split("_")[1]], p.name))
        say(f"filled {len(returns)} returns in {time.perf_counter() - t:.1f} s")
        fill_s = time.perf_counter() - t
        by_scale = {n: returns[:n] for n in full}
        links = {}
        for n in school:
            t = time.perf_counter()
            links[n] = hard_links(returns, n, work / f"school-{n}")
            say(f"{n} hard links in {time.perf_counter() - t:.1f} s")

        # --- validation ---------------------------------------------------------------------
        val, naive_val = {}, {}
        for n in full:
            files = by_scale[n]
            runs = [measure("validate", {"files": [str(p) for p in files]}, work)
                    for _ in range(max(1, args.rounds) if n == 85 else 1)]
            val[n] = pooled(runs)
            say(f"validate {n}: median {statistics.median(val[n]['times']) * 1000:.2f} ms"
                + (f" over {len(runs)} processes; single: " + ", ".join(
                    f"{m:.2f}" for m in val[n]["round_medians_ms"]) if len(runs) > 1 else ""))
            sample = spread(files, args.naive_sample if n > 85 else n)
            naive_val[n] = measure("validate-naive", {"files": [str(p) for p in sample]}, work)
            say(f"naive validate, {len(sample)} files: {naive_val[n]['total']:.1f} s")
        batch = {}
        for n in full:
            if n >= 200:  # validate_files starts workers from 200 files per worker
                batch[n] = measure("validate-batch", {"files": [str(p) for p in by_scale[n]]},
                                   work)
                say(f"validate_files {n}: {batch[n]['total']:.1f} s")

        # --- intake ---------------------------------------------------------------------------
        intake, naive_intake = {}, {}
        for n in full:
            intake[n] = measure("intake", {"url": f"sqlite:///{work / f'ledger-{n}.sqlite'}",
                                           "files": [str(p) for p in by_scale[n]]}, work)
            say(f"intake {n}: {intake[n]['total']:.1f} s")
            sample = spread(by_scale[n], args.naive_sample if n > 85 else n)
            naive_intake[n] = measure("intake-naive", {
                "url": str(work / f"naive-{n}.sqlite"), "files": [str(p) for p in sample]}, work)
            say(f"naive intake, {len(sample)} files: {naive_intake[n]['total']:.1f} s")

        # --- consolidation (bench/consolidate.py's measurements and inputs) ------------------
        import consolidate as bench_consolidate  # bench/consolidate.py
        for n in full:
            with open(work / f"records-{n}.pkl", "wb") as handle:
                pickle.dump(bench_consolidate.make_records(n), handle)
        naive_files = work / "naive-consolidate-files"  # this run's 85 returns of 2020Q3
        naive_files.mkdir()
        for path in returns:
            if f"_{FIRST_PERIOD}_" in path.name:
                os.link(path, naive_files / f"{path.stem}.xlsx")
        cons = {}
        for n in full:
            c = {"first": bench_consolidate.measure("cos-xl-first", n, work, 1),
                 "steady": bench_consolidate.measure("cos-xl-xlsx", n, work, args.repeat),
                 "naive_mem": bench_consolidate.measure("naive-memory", n, work, args.repeat)}
            sample = n if n <= 85 else min(n, args.naive_sample)
            c["naive_files"] = bench_consolidate.measure("naive-files", sample, work, 1,
                                                         naive_files)
            c["naive_files_sample"] = sample
            c["naive_files_total"] = c["naive_files"]["seconds"] * n / sample
            cons[n] = c
            say(f"consolidate {n}: first {c['first']['seconds']:.2f} s")

        # --- school scale: validation of the hard links ---------------------------------------
        school_runs = {}
        for n in school:
            batch[n] = measure("validate-batch", {"files": [str(p) for p in links[n]]}, work)
            say(f"validate_files {n}: {batch[n]['total']:.1f} s")
            # Each picked name links to a different file, so no file comes back while the
            # validator's bounded per-file caches could still hold it.
            rng = random.Random(n)
            copies = n // len(returns)
            picked = sorted(rng.randrange(copies) * len(returns) + f
                            for f in rng.sample(range(len(returns)),
                                                min(len(returns), args.single_sample)))
            sample = [links[n][i] for i in picked]
            inodes = len({p.stat().st_ino for p in sample})
            school_runs[n] = (measure("validate", {"files": [str(p) for p in sample]}, work),
                              len(sample), inodes)
            say(f"validate {len(sample)} of {n}: median "
                f"{statistics.median(school_runs[n][0]['times']) * 1000:.2f} ms")

        # --- the table: validation -----------------------------------------------------------
        def naive_median(n: int) -> float:
            return statistics.median(naive_val[n]["times"])
        for n in full:
            v = val[n]
            median = statistics.median(v["times"]) * 1000
            goal = ""
            if n == 85:
                goal = f"median <= {GOAL_VALIDATE_MS:.0f} ms: {verdict(median <= GOAL_VALIDATE_MS)}"
                goals.append({"goal": f"validation <= {GOAL_VALIDATE_MS} ms median per workbook "
                                      f"(85; {v.get('runs', 1)} fresh process(es) pooled)", "value_ms": median,
                              "met": median <= GOAL_VALIDATE_MS})
            label = "cos-xl validate_file, one process (all checks)"
            if v.get("runs", 1) > 1:
                label = f"cos-xl validate_file (all checks), {v['runs']} fresh processes pooled"
            table.add("validation", sc(n), label, n,
                      v["total"], times=v["times"], peak=v["peak_mib"],
                      naive_per_file=naive_val[n]["total"] / naive_val[n]["count"], goal=goal,
                      extra={"verdicts": v["verdicts"],
                             "round_medians_ms": v.get("round_medians_ms")})
            if n in batch:
                b = batch[n]
                table.add("validation", sc(n), f"cos-xl validate_files, {b['workers']} worker(s), "
                          "wall / file", n, b["total"], peak=b["peak_mib"],
                          naive_per_file=naive_val[n]["total"] / naive_val[n]["count"],
                          extra={"worker_peak_mib": b["worker_peak_mib"],
                                 "verdicts": b["verdicts"]})
        for n in school:
            b = batch[n]
            per_naive = naive_val[max(full)]["total"] / naive_val[max(full)]["count"]
            table.add("validation", sc(n), f"cos-xl validate_files, {b['workers']} worker(s), "
                      f"wall / file; {n // distinct} links x {distinct}", n, b["total"],
                      peak=b["peak_mib"], naive_per_file=per_naive,
                      extra={"worker_peak_mib": b["worker_peak_mib"], "verdicts": b["verdicts"]})
            s, count, inodes = school_runs[n]
            table.add("validation", sc(n), f"cos-xl validate_file, one process, sample: "
                      f"{count} links to {inodes} files", count, s["total"], times=s["times"],
                      peak=s["peak_mib"], naive_per_file=per_naive,
                      extra={"verdicts": s["verdicts"]})
        for n in full:
            nv = naive_val[n]
            label = ("naive openpyxl full load (values only)" if nv["count"] == n else
                     f"naive openpyxl full load, sample of {nv['count']} (x {n})")
            per = nv["total"] / nv["count"]
            table.add("validation", sc(n), label, n, per * n, per_file=per, times=nv["times"],
                      peak=nv["peak_mib"])
        for n in school:
            nv = naive_val[max(full)]
            per = nv["total"] / nv["count"]
            table.add("validation", sc(n), f"naive openpyxl full load, sample of {nv['count']} "
                      f"(x {n})", n, per * n, per_file=per, times=nv["times"])
        # memory flat in the number of files
        single = [(n, val[n]["peak_mib"]) for n in full] + [
            (n, school_runs[n][0]["peak_mib"]) for n in school]
        base = single[0][1]
        flat_single = all(p <= base * FLAT for _, p in single)
        flat_text = " -> ".join(f"{sc(n)}: {p:.0f}" for n, p in single)
        batch_scales = [n for n in sorted(batch) if batch[n]["worker_peak_mib"] is not None]
        flat_batch = True
        batch_text = ""
        if len(batch_scales) >= 2:
            b0 = batch[batch_scales[0]]
            flat_batch = all(batch[n]["peak_mib"] <= b0["peak_mib"] * FLAT and
                             batch[n]["worker_peak_mib"] <= b0["worker_peak_mib"] * FLAT
                             for n in batch_scales[1:])
        if batch_scales:
            batch_text = "; validate_files parent/largest worker " + " -> ".join(
                f"{sc(n)}: {batch[n]['peak_mib']:.0f}/{batch[n]['worker_peak_mib']:.0f}"
                for n in batch_scales) + " MiB"
        periods_text = ", ".join(f"{sc(n)} files: {len(plan_periods(min(n, distinct)))} "
                                 f"period(s)" for n in full)
        goals.append({"goal": f"validation memory flat in the number of files (every peak <= "
                              f"{FLAT}x that of the smallest scale)",
                      "single_process_mib": {str(n): p for n, p in single},
                      "validate_files_mib": {str(n): [batch[n]["peak_mib"],
                                                      batch[n]["worker_peak_mib"]]
                                             for n in batch_scales},
                      "met": flat_single and flat_batch})
        steps = [f"{sc(a)}->{sc(b)} {pb / pa:.2f}x"
                 for (a, pa), (b, pb) in itertools.pairwise(single)]
        for a, b in itertools.pairwise(batch_scales):
            parent = batch[b]["peak_mib"] / batch[a]["peak_mib"]
            worker = batch[b]["worker_peak_mib"] / batch[a]["worker_peak_mib"]
            steps.append(f"validate_files {sc(a)}->{sc(b)} parent {parent:.2f}x, "
                         f"worker {worker:.2f}x")
        notes.append(f"validation memory, peak ratio from scale to scale: {'; '.join(steps)}; "
                     f"{periods_text}" + (f"; the {sc(school[0])} names link to the same "
                                          f"{distinct} files" if school else ""))
        mem_goal = f"memory flat: {verdict(flat_single and flat_batch)}"
        single_rows = [r for r in table.rows if r["stage"] == "validation"
                       and r["method"].startswith("cos-xl validate_file, one process")]
        last = single_rows[-1]
        last["goal"] = f"{last['goal']}; {mem_goal}" if last["goal"] else mem_goal

        # --- the table: intake -----------------------------------------------------------------
        for n in full:
            i = intake[n]
            ni = naive_intake[n]
            table.add("intake", sc(n), "cos-xl ledger intake, fresh SQLite ledger"
                      + (f" ({len(plan_periods(n))} periods)" if n > 85 else ""), n, i["total"],
                      times=i["times"], peak=i["peak_mib"],
                      naive_per_file=ni["total"] / ni["count"],
                      extra={"verdicts": i["verdicts"], "open_s": i["open_s"]})
        for n in full:
            ni = naive_intake[n]
            per = ni["total"] / ni["count"]
            label = ("naive openpyxl load + row insert, SQLite" if ni["count"] == n else
                     f"naive openpyxl load + row insert, sample of {ni['count']} (x {n})")
            table.add("intake", sc(n), label, n, per * n, per_file=per, times=ni["times"],
                      peak=ni["peak_mib"])

        # --- the table: consolidation ------------------------------------------------------------
        for n in full:
            c = cons[n]
            unit = "regions" if n == 85 else "municipal units"
            naive_per = c["naive_mem"]["seconds"] / n
            first = c["first"]["seconds"]
            goal = ""
            if n == 85:
                met = first <= GOAL_CONSOLIDATE_S
                goal = f"<= {GOAL_CONSOLIDATE_S:.0f} s first run: {verdict(met)}"
                goals.append({"goal": f"consolidation of 85 <= {GOAL_CONSOLIDATE_S} s, first run "
                                      "in a process, xlsx written", "value_s": first,
                              "met": first <= GOAL_CONSOLIDATE_S})
            table.add("consolidation", sc(n), f"cos-xl consolidate + xlsx, {n} {unit}, first run",
                      n, first, peak=c["first"]["peak_mib"], naive_per_file=naive_per, goal=goal)
            table.add("consolidation", sc(n), f"cos-xl consolidate + xlsx, best of {args.repeat}",
                      n, c["steady"]["seconds"], peak=c["steady"]["peak_mib"],
                      naive_per_file=naive_per)
            read = ("all 85 files" if c["naive_files_sample"] == n else
                    f"sample of {c['naive_files_sample']}, the 85 files cycled, x {n}")
            notes.append(
                f"consolidation {sc(n)}: vs naive reading the returns with openpyxl "
                f"({read}; {c['naive_files_total']:.1f} s, "
                f"peak {c['naive_files']['peak_mib']:.0f} MiB): "
                f"first run {c['naive_files_total'] / first:.0f}x, "
                f"best {c['naive_files_total'] / c['steady']['seconds']:.0f}x")
        for n in full:
            c = cons[n]
            table.add("consolidation", sc(n), f"naive: values in memory, openpyxl writes, best "
                      f"of {args.repeat}", n, c["naive_mem"]["seconds"],
                      peak=c["naive_mem"]["peak_mib"])
            label = ("naive: openpyxl reads the 85 returns, writes" if c["naive_files_sample"] == n
                     else f"naive: openpyxl reads, sample of {c['naive_files_sample']} (x {n})")
            table.add("consolidation", sc(n), label, n, c["naive_files_total"],
                      peak=c["naive_files"]["peak_mib"])

        elapsed = time.perf_counter() - began
        load_end = loadavg()
        notes.insert(0, f"setup: {distinct} returns filled with fill_workbook in {fill_s:.1f} s "
                        f"({len(plan)} periods {plan[0][0]}..{plan[-1][0]}, last "
                        f"{'partly' if plan[-1][1] else 'fully'})")
        notes.append("vs naive = naive time per file / this row's time per file (consolidation: "
                     "naive values-in-memory total, best of the repeats, / this total, so a "
                     "first-run row, imports included, is compared with a warm baseline); "
                     f"validate_files rows compare wall time on {os.cpu_count()} cores with the "
                     "single-process naive reader")
        notes.append("peak MiB = VmHWM of the measuring process; '+wN' = largest worker's VmHWM "
                     "(forked, so it counts pages shared with the parent)")
        verdicts = {f"{r['stage']} {r['files']} {r['method']}": dict(r["verdicts"])
                    for r in table.rows if r.get("verdicts")}
        notes.append("verdicts (each file should be PASS or PASS_WITH_WARNINGS and be taken in "
                     "as new): " +
                     "; ".join(f"{r['stage']} {sc(r['files'])}: " + ", ".join(
                         f"{k} {v}" for k, v in sorted(r["verdicts"].items()))
                         for r in table.rows if r.get("verdicts")))
        header = (f"# cos-xl bench/run.py: {platform.machine()}, {os.cpu_count()} cores, Python "
                  f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}; "
                  f"load average at start {load_start}, at end {load_end}; "
                  f"whole run {elapsed:.0f} s")
        goal_lines = []
        for g in goals:
            value = (f"{g['value_s']:.2f} s" if "value_s" in g else f"{g['value_ms']:.2f} ms"
                     if "value_ms" in g else flat_text + " MiB (one process)" + batch_text)
            goal_lines.append(f"goal: {g['goal']} -> {value}: {verdict(g['met'])}")
        print(header)
        print(table.text())
        print()
        for line in goal_lines:
            print(line)
        for note in notes:
            print(f"note: {note}")
        if args.json:
            args.json.write_text(json.dumps({
                "machine": platform.machine(), "cores": os.cpu_count(),
                "python": platform.python_version(), "scales": scales,
                "load_average_start": load_start, "load_average_end": load_end,
                "elapsed_s": elapsed, "rows": table.rows, "goals": goals, "notes": notes,
                "verdicts": verdicts}, indent=1, ensure_ascii=False, default=str),
                encoding="utf-8")
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
