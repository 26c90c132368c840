"""Benchmark: a region with 2,500 organisations — generate their workbooks, take their returns
into the region's ledger and roll them up into the region's federal template; time, peak memory
(flat in the number of files at intake) and the ratio against naive baselines measured in the
same run, plus a check that the rolled-up figures are the sums of the units' figures.

    python bench/units.py [--units 2500] [--quick] [--naive-builds 50] [--naive-intake 100]

Everything happens in a temporary folder, for region 77 and 2020Q4, with the development key:

1. ``generate(..., units=...)``: one workbook per synthetic organisation
   (``cos_xl.demo.units.synthetic_units``), rendered from one skeleton of the period. Baseline:
   the full builder (``cos_xl.template.builder.build_workbook``) per unit, as generation would
   do without the skeleton, on a sample spread over the units (``--naive-builds``), per file
   extrapolated; its bytes are compared with the fast path's.
2. Each workbook filled with the SYNTHETIC figures of ``sample_unit`` (its share of the region,
   ``unit_shares``) by ``cos_xl.fill.fill_workbook``: the units' side, not the tool's
   work; timed apart.
3. ``Ledger.intake`` of every return into a fresh SQLite ledger where the units were
   registered (``register_units``): total, median per file, and the process's VmHWM/VmRSS every
   500 files (every fifth of the files below 2,500), to show memory flat. Baseline: as
   ``bench/intake.py`` — openpyxl full load + one row inserted and committed per file, on a
   sample (``--naive-intake``), extrapolated.
4. ``cos_xl.rollup.run.rollup`` into the region's federal template (``generate(...,
   regions=["77"])`` into another folder): the sums, the «Свод по МО» sheet, the validation of
   the result. Baseline: the units' figures already in memory, summed in Python, and the
   template filled with openpyxl (load, write the input cells, save) — no sheet, no checks.
5. The check: the rolled-up workbook read back with ``validate_file`` — its count inputs equal
   the sums of the units' figures computed here from the figures written into the returns, its
   texts the campaign's, its choices the units' — and its verdict is PASS.

Every measured stage runs in a fresh subprocess; its peak memory is that process's VmHWM. A
baseline measured on a sample is extrapolated as its first file (imports, caches: once per
process, as in the measured run) plus the mean of its other files for each further one. Exit
code 1 when the check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))  # bench/naive.py

PERIOD = "2020Q4"
REGION = "77"
UNITS = 2500
QUICK_UNITS = 300
NAIVE_BUILDS = 50
NAIVE_INTAKE = 100
MEMORY_STEP = 500
FLAT = 1.25  # "memory flat": the last sample at most 25 % above the first, as bench/run.py
ROLLUP_TEXTS = {"resp_name": "Иванов Иван Иванович (синтетический)",
                "resp_position": "Начальник отдела мониторинга (синтетический)",
                "resp_phone": "+7 (495) 123-45-67", "resp_email": "a@b.ru"}


# --- measurements, each in a fresh process: python bench/units.py --measure MODE --spec F --------

def _status_mib(field: str) -> float:
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def _peak_mib() -> float:
    return _status_mib("VmHWM")


def _campaign():
    from cos_xl.campaign import Campaign
    return Campaign(rollup=ROLLUP_TEXTS)


def _units(count: int):
    from cos_xl.demo.units import synthetic_units
    from cos_xl.regions import get_region
    return synthetic_units(get_region(REGION), count, kind="organisation")


def _key():
    from cos_xl.signing import resolve_key
    return resolve_key(None, dev_key=True, env={})


def _measure_generate(spec: dict) -> dict:
    """generate() of every unit's workbook, the first call in the process (imports apart)."""
    started = time.perf_counter()
    from cos_xl.generate import generate
    imports = time.perf_counter() - started
    units, key, campaign = _units(spec["count"]), _key(), _campaign()
    stamps: list[float] = []
    started = time.perf_counter()
    result = generate(spec["period"], Path(spec["out"]), key, regions=[spec["region"]],
                      units=units, campaign=campaign,
                      on_progress=lambda _owner, _path: stamps.append(time.perf_counter()))
    total = time.perf_counter() - started
    times = [b - a for a, b in zip([started, *stamps], stamps, strict=False)]
    return {"total": total, "times": times, "count": len(result.paths), "imports": imports,
            "paths": [str(p) for p in result.paths], "peak_mib": _peak_mib()}


def _measure_generate_naive(spec: dict) -> dict:
    """The full builder per unit (no skeleton), for the sampled units; bytes compared with the
    fast path's files."""
    from cos_xl.campaign import Contact
    from cos_xl.generate import template_context
    from cos_xl.periods import Period
    from cos_xl.regions import get_region
    from cos_xl.spec import load_form
    from cos_xl.template.builder import build_workbook
    period, region, key = Period.parse(spec["period"]), get_region(spec["region"]), _key()
    by_id = {unit.unit_id: unit for unit in _units(spec["count"])}
    # as generate() does for units when the campaign keeps the federal operator's contact
    campaign = _campaign().model_copy(update={"contact": Contact(
        name=f"Орган управления образованием: {region.full_name}")})
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    times, same = [], 0
    started = time.perf_counter()
    for unit_id, fast_path in spec["sample"]:
        t = time.perf_counter()
        form = load_form(campaign.form_for(period))
        ctx = template_context(form, campaign, period, region, None, True, by_id[unit_id])
        data, _ = build_workbook(ctx, key)
        (out / Path(fast_path).name).write_bytes(data)
        times.append(time.perf_counter() - t)
        same += data == Path(fast_path).read_bytes()
    total = time.perf_counter() - started
    return {"total": total, "times": times, "count": len(times), "same_bytes": same,
            "peak_mib": _peak_mib()}


def _measure_intake(spec: dict) -> dict:
    """register_units, then Ledger.intake of every return into the fresh SQLite ledger; VmHWM
    and VmRSS every ``step`` files."""
    started = time.perf_counter()
    from cos_xl.ledger import open_ledger
    imports = time.perf_counter() - started
    key, campaign = _key(), _campaign()
    files = [Path(p) for p in spec["files"]]
    step = spec["step"]
    times: list[float] = []
    memory: list[tuple[int, float, float]] = []  # (files taken, VmHWM, VmRSS)

    def on_outcome(outcome) -> None:
        times.append(outcome.seconds)
        if len(times) % step == 0 or len(times) == len(files):
            memory.append((len(times), _status_mib("VmHWM"), _status_mib("VmRSS")))

    with open_ledger(spec["db"], create=True) as ledger:
        t = time.perf_counter()
        ledger.register_units(spec["period"], spec["region"], _units(spec["count"]), campaign,
                              key)
        register = time.perf_counter() - t
        started = time.perf_counter()
        outcomes = ledger.intake(files, key, allow_dev_key=True, on_outcome=on_outcome)
        total = time.perf_counter() - started
    bad = [(o.path.name, o.status, o.verdict, o.message) for o in outcomes
           if o.status != "new" or not o.accepted or not o.unit_id]
    verdicts: dict[str, int] = {}
    for o in outcomes:
        verdicts[o.verdict] = verdicts.get(o.verdict, 0) + 1
    return {"total": total, "times": times, "count": len(outcomes), "register_s": register,
            "imports": imports, "memory": memory, "verdicts": verdicts, "not_accepted": bad[:5],
            "peak_mib": _peak_mib()}


def _measure_intake_naive(spec: dict) -> dict:
    """As bench/intake.py: openpyxl full load + one row inserted and committed per file."""
    from naive import naive_intake  # bench/naive.py
    files = [Path(p) for p in spec["files"]]
    started = time.perf_counter()
    times = naive_intake(files, spec["db"])
    total = time.perf_counter() - started
    return {"total": total, "times": times, "count": len(files), "peak_mib": _peak_mib()}


def _measure_rollup(spec: dict) -> dict:
    """rollup() from the ledger into the federal template, the first call in the process."""
    started = time.perf_counter()
    from cos_xl.ledger import open_ledger
    from cos_xl.rollup.run import rollup
    imports = time.perf_counter() - started
    with open_ledger(spec["db"]) as ledger:
        started = time.perf_counter()
        result = rollup(ledger, spec["period"], spec["region"], Path(spec["template"]),
                        Path(spec["out"]), campaign=_campaign())
        total = time.perf_counter() - started
    return {"total": total, "count": len(result.table.rows), "path": str(result.path),
            "verdict": result.verdict, "missing": len(result.table.missing),
            "imports": imports, "peak_mib": _peak_mib()}


def _measure_rollup_naive(spec: dict) -> dict:
    """The units' figures already in memory (read before the clock starts), summed per input;
    the template filled with openpyxl through the manifest's cell map and saved."""
    import openpyxl
    figures = json.loads(Path(spec["figures"]).read_text(encoding="utf-8"))
    template = Path(spec["template"])
    started = time.perf_counter()
    sums: dict[str, float] = {}
    for values in figures.values():
        for input_id, value in values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                sums[input_id] = sums.get(input_id, 0) + value
    wb = openpyxl.load_workbook(template, keep_vba=True)
    manifest = json.loads(wb["_manifest"]["B1"].value)
    for input_id, value in sums.items():
        sheet, cell = manifest["inputs"][input_id].rsplit("!", 1)
        wb[sheet][cell] = value
    for input_id, text in ROLLUP_TEXTS.items():
        sheet, cell = manifest["inputs"][input_id].rsplit("!", 1)
        wb[sheet][cell] = text
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    wb.save(out / template.name)
    total = time.perf_counter() - started
    return {"total": total, "count": len(figures), "peak_mib": _peak_mib()}


MODES = {
    "generate": _measure_generate,
    "generate-naive": _measure_generate_naive,
    "intake": _measure_intake,
    "intake-naive": _measure_intake_naive,
    "rollup": _measure_rollup,
    "rollup-naive": _measure_rollup_naive,
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


# --- the run ---------------------------------------------------------------------------------

def spread(items: list, count: int) -> list:
    """``count`` items evenly spread over ``items`` (all of them when there are fewer)."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def extrapolate(times: list[float], count: int) -> float:
    """A sample's time for ``count`` files: its first file (imports, caches: once per process,
    as in the measured run) plus the mean of the others for each further file."""
    rest = times[1:] or times
    return times[0] + statistics.mean(rest) * (count - 1)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def fill_returns(paths: list[Path], out: Path) -> dict[str, dict]:
    """Write each unit's SYNTHETIC figures into its workbook; unit id -> the figures written."""
    from cos_xl.fill import fill_workbook, read_manifest
    from cos_xl.demo.units import sample_unit, unit_shares
    from cos_xl.regions import get_region
    from cos_xl.spec import load_form
    out.mkdir(parents=True, exist_ok=True)
    region, form = get_region(REGION), load_form()
    shares = unit_shares(_units(len(paths)))
    figures = {}
    for path in paths:
        data = path.read_bytes()
        unit_id = read_manifest(data)["unit"]["id"]
        values = sample_unit(region, PERIOD, shares[unit_id], form=form)
        (out / path.name).write_bytes(fill_workbook(data, values))
        figures[unit_id] = values
    return figures


def expected_inputs(figures: dict[str, dict]) -> tuple[dict[str, object], int, int]:
    """What the rolled-up return must say, computed here from the units' figures: each count
    input the sum, the campaign's texts, and every other input the units' common value (all
    units of the synthetic region name the same systems). Also how many counts and others."""
    from cos_xl.spec import load_form
    form = load_form()
    expected: dict[str, object] = {}
    counts = others = 0
    for item in form.inputs:
        values = [unit[item.id] for unit in figures.values()]
        if item.kind == "count":
            expected[item.id] = sum(v for v in values if isinstance(v, int | float))
            counts += 1
        elif item.id in ROLLUP_TEXTS:
            expected[item.id] = ROLLUP_TEXTS[item.id]
            others += 1
        elif len({json.dumps(v, default=str) for v in values}) == 1:
            expected[item.id] = values[0]
            others += 1
    return expected, counts, others


def check(path: Path, figures: dict[str, dict]) -> tuple[bool, str]:
    """The rolled-up workbook read back by the validator against the sums computed here; its
    verdict must be PASS (the synthetic units' figures draw no warning)."""
    from cos_xl.validate.run import validate_file
    key = _key()
    result = validate_file(path, key, allow_dev_key=True)
    expected, counts, others = expected_inputs(figures)

    def same(a: object, b: object) -> bool:
        if isinstance(a, int | float) and isinstance(b, int | float):
            return float(a) == float(b)
        return (a in (None, "") and b in (None, "")) or a == b
    differ = [(k, v, result.values.get(k)) for k, v in expected.items()
              if not same(v, result.values.get(k))]
    problems = [f"{f.code}: {f.message}" for f in result.findings if f.severity != "info"]
    text = (f"check: rolled-up inputs vs sums of the {len(figures)} units' figures computed in "
            f"the bench: {counts} counts and {others} texts/choices "
            + ("match" if not differ else f"DIFFER in {len(differ)}: " + "; ".join(
                f"{k} expected {v!r} got {g!r}" for k, v, g in differ[:5]))
            + f" (e.g. students_go = {expected.get('students_go')}); verdict of the rolled-up "
            f"workbook (validate_file, dev key): {result.verdict}"
            + (" — " + "; ".join(problems)[:300] if problems else ""))
    return not differ and result.verdict == "PASS", text


def row(stage: str, files: int, total: float | None, per: float | None, median: float | None,
        peak: float | None, ratio: float | None) -> str:
    def f(value, spec, width):
        return f"{value:{width}{spec}}" if value is not None else f"{'—':>{width}}"
    return (f"{stage:60} {files:6d} {f(total, '.2f', 8)} {f(per, '.2f', 8)} "
            f"{f(median, '.2f', 7)} {f(peak, '.0f', 8)} "
            f"{(f'{ratio:.{1 if ratio >= 1 else 2}f}x' if ratio else '—'):>8}")


def run(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    load_start = loadavg()
    n = args.units
    work = Path(tempfile.mkdtemp(prefix="cos-bench-units-"))

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f} s] {text}", file=sys.stderr, flush=True)

    try:
        say(f"work folder {work}; {n} organisations of region {REGION}, {PERIOD}; "
            f"load {load_start}")
        # 1. generation, and the full builder on a sample
        gen = measure("generate", {"period": PERIOD, "region": REGION, "count": n,
                                   "out": str(work / "units")}, work)
        paths = [Path(p) for p in gen["paths"]]
        assert len(paths) == n, (len(paths), n)
        say(f"generate {n}: {gen['total']:.2f} s")
        ids = [unit.unit_id for unit in _units(n)]
        sample = spread(list(zip(ids, gen["paths"], strict=True)), min(args.naive_builds, n))
        naive_gen = measure("generate-naive", {"period": PERIOD, "region": REGION, "count": n,
                                               "sample": sample, "out": str(work / "naive-gen")},
                            work)
        shutil.rmtree(work / "naive-gen", ignore_errors=True)
        say(f"full builder, {naive_gen['count']} units: {naive_gen['total']:.2f} s")

        # 2. the units fill their workbooks (not the tool's work)
        t = time.perf_counter()
        figures = fill_returns(paths, work / "returns")
        fill_s = time.perf_counter() - t
        returns = sorted((work / "returns").glob("*.xls*"))
        say(f"filled {len(returns)} returns in {fill_s:.1f} s")

        # 3. intake into a fresh SQLite ledger
        step = MEMORY_STEP if n >= 5 * MEMORY_STEP else max(1, n // 5)
        db = work / "region-77.sqlite"
        intake = measure("intake", {"db": str(db), "period": PERIOD, "region": REGION,
                                    "count": n, "files": [str(p) for p in returns],
                                    "step": step}, work)
        say(f"intake {n}: {intake['total']:.1f} s")
        if intake["not_accepted"] or intake["count"] != n:
            print(f"intake: not every return taken as a new accepted unit return: "
                  f"{intake['not_accepted']}", file=sys.stderr)
            return 1
        naive_sample = spread(returns, min(args.naive_intake, n))
        naive_intake = measure("intake-naive", {"db": str(work / "naive.sqlite"),
                                                "files": [str(p) for p in naive_sample]}, work)
        say(f"naive intake, {naive_intake['count']} files: {naive_intake['total']:.1f} s")

        # 4. rollup into the region's federal template
        from cos_xl.generate import generate
        t = time.perf_counter()
        federal = generate(PERIOD, work / "federal", _key(), regions=[REGION])
        federal_s = time.perf_counter() - t
        template = federal.paths[0]
        roll = measure("rollup", {"db": str(db), "period": PERIOD, "region": REGION,
                                  "template": str(template), "out": str(work / "rollup")}, work)
        say(f"rollup of {roll['count']} units: {roll['total']:.2f} s, verdict {roll['verdict']}")
        figures_path = work / "figures.json"
        figures_path.write_text(json.dumps(figures, ensure_ascii=False, default=str),
                                encoding="utf-8")
        naive_roll = measure("rollup-naive", {"figures": str(figures_path),
                                              "template": str(template),
                                              "out": str(work / "naive-rollup")}, work)
        say(f"naive rollup: {naive_roll['total']:.2f} s")

        # 5. the check
        ok, check_text = check(Path(roll["path"]), figures)

        # the table
        ms = 1000
        gen_naive_per = extrapolate(naive_gen["times"], n) / n
        intake_naive_per = extrapolate(naive_intake["times"], n) / n
        print(f"# units: {n} organisations of region {REGION}, {PERIOD}; "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}; load {load_start} -> {loadavg()}")
        print(f"{'stage':60} {'files':>6} {'total s':>8} {'ms/file':>8} {'med ms':>7} "
              f"{'peak MiB':>8} {'vs naive':>8}")
        print(row("generate, skeleton + per-unit render (first run)", n, gen["total"],
                  gen["total"] / n * ms, statistics.median(gen["times"]) * ms, gen["peak_mib"],
                  gen_naive_per / (gen["total"] / n)))
        print(row(f"naive: full builder per unit, sample of {naive_gen['count']}, extrap.", n,
                  gen_naive_per * n, gen_naive_per * ms,
                  statistics.median(naive_gen["times"]) * ms, naive_gen["peak_mib"], None))
        print(row("fill with sample_unit figures (the units' side, setup)", n, fill_s,
                  fill_s / n * ms, None, None, None))
        print(row("intake, sqlite (validate + store, one commit per file)", n, intake["total"],
                  intake["total"] / n * ms, statistics.median(intake["times"]) * ms,
                  intake["peak_mib"], intake_naive_per / (intake["total"] / n)))
        print(row(f"naive intake: openpyxl + row insert, sample of "
                  f"{naive_intake['count']}, extrap.", n, intake_naive_per * n,
                  intake_naive_per * ms,
                  statistics.median(naive_intake["times"]) * ms, naive_intake["peak_mib"],
                  None))
        print(row("rollup into the federal template (ms per unit)", n, roll["total"],
                  roll["total"] / n * ms, None, roll["peak_mib"],
                  naive_roll["total"] / roll["total"]))
        print(row("naive rollup: sums in memory + openpyxl fill and save", n,
                  naive_roll["total"], naive_roll["total"] / n * ms, None,
                  naive_roll["peak_mib"], None))
        memory = intake["memory"]
        first_hwm = memory[0][1]
        flat = all(hwm <= first_hwm * FLAT for _, hwm, _ in memory)
        print("intake memory, VmHWM/VmRSS MiB after " + ", ".join(
            f"{count}: {hwm:.0f}/{rss:.0f}" for count, hwm, rss in memory)
            + f" -> flat (each <= {FLAT}x the first): {'yes' if flat else 'NO'}")
        print("notes: units' returns at intake: " + ", ".join(
            f"{verdict} {count}" for verdict, count in sorted(intake["verdicts"].items()))
            + f"; full-builder bytes = fast-path bytes for {naive_gen['same_bytes']} of "
              f"{naive_gen['count']}; register_units {intake['register_s']:.2f} s; federal "
              f"template {federal_s:.2f} s; imports before the clocks: generate "
              f"{gen['imports']:.2f} s, intake {intake['imports']:.2f} s, rollup "
              f"{roll['imports']:.2f} s; whole run {time.perf_counter() - began:.0f} s")
        print(check_text)
        return 0 if ok else 1
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=None,
                        help=f"organisations of the region (default {UNITS}; {QUICK_UNITS} with "
                             "--quick)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_UNITS} units")
    parser.add_argument("--naive-builds", type=int, default=NAIVE_BUILDS,
                        help=f"units built by the full builder (default {NAIVE_BUILDS})")
    parser.add_argument("--naive-intake", type=int, default=NAIVE_INTAKE,
                        help=f"files of the naive intake (default {NAIVE_INTAKE})")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = MODES[args.measure](json.loads(Path(args.spec).read_text()))
        print(json.dumps(result))
        return
    if args.units is None:
        args.units = QUICK_UNITS if args.quick else UNITS
    if args.units < 1:
        parser.error("--units: at least 1")
    sys.exit(run(args))


if __name__ == "__main__":
    main()
