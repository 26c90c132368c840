"""Benchmark: consolidate 85 regions and 2,500 municipal units into the national report, against
naive baselines measured in the same run, each in a fresh process (time and peak memory).

    python bench/consolidate.py [--units 85,2500] [--repeat 3] [--naive-files-sample 200]

Inputs are synthetic, seeded ``Submission`` records (tests/consolidate_synth.py): the 85 regions
of 2020Q3, and 2,500 municipal units ``RR-NNN`` spread over them (what the ledger hands over).
Baselines, the way a first implementation would do it:

* naive, values in memory: per-indicator loops over the same records with the formulas written
  out by hand, national and district sums, ranks, and the workbook written cell by cell with
  openpyxl (summary, regions, one openpyxl bar chart per indicator);
* naive, from the files: the same, but reading every returned workbook again with openpyxl
  (``load_workbook(data_only=True)``, inputs by defined name) instead of the ledger's values.
  The files are generated templates filled with openpyxl (setup, not timed); at 2,500 units a
  sample is read and the time per file extrapolated.

Goal (issue 5): consolidating 85 regions in at most 1 s, writing the workbook included.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# METHODOLOGY.md written out by hand, as the naive baselines would.
METHOD = {
    "E4.03": (["e403_go", "e403_do", "e403_spo"], ["students_go", "students_do", "students_spo"]),
    "E4.04": (["e404_go", "e404_do", "e404_spo"], ["students_go", "students_do", "students_spo"]),
    "E4.05": (["e405_go", "e405_do", "e405_spo"], ["orgs_go", "orgs_do", "orgs_spo"]),
    "E4.07": (["e407_go", "e407_spo"], ["students_go", "students_spo"]),
    "E4.08": (["e408_go"], ["teachers_go"]),
    "E4.01.05": (["e40105_go", "e40105_do"], ["orgs_go", "orgs_do"]),
    "E4.01.07": (["e40107"], None),
    "E4.01.11": (["e40111_students"], None),
}


def peak_mib() -> float:
    # VmHWM: this process's peak resident memory (ru_maxrss would include the parent's).
    line = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def make_records(units: int) -> dict:
    from consolidate_synth import municipal_round, national_round
    if units == 85:
        return national_round(seed=85, missing=0, rejected=0)[0]
    return municipal_round(count=units)


def records(units: int) -> dict:
    """The records the ledger would hand over, unpickled (importing only cos_xl.submission), so
    that a first run in a process pays every import of consolidation itself."""
    with open(os.environ["COS_BENCH_RECORDS"] + f"-{units}.pkl", "rb") as handle:
        return pickle.load(handle)


# --- the measured methods (each runs in its own process) --------------------------------------

def run_cos_xl(units: int, out: Path, repeat: int, everything: bool, first: bool) -> float:
    subs = records(units)
    started = time.perf_counter()
    from cos_xl.campaign import Campaign
    from cos_xl.consolidate import consolidate_period, write_csv, write_json, write_xlsx
    from cos_xl.spec import load_form
    best = float("inf")
    for _ in range(1 if first else repeat):
        if not first:
            started = time.perf_counter()
        report = consolidate_period(load_form(), Campaign(), "2020Q3", subs)
        write_xlsx(report, out / "national.xlsx")
        if everything:
            write_json(report, out / "national.json")
            write_csv(report, out / "national.csv")
        best = min(best, time.perf_counter() - started)
    return best


def naive_compute(rows: list[tuple[str, dict]]) -> dict:
    """rows: (unit, values). National, per-district and per-unit figures with ranks."""
    from cos_xl.regions import get_region
    per_unit: dict[str, dict] = {}
    national: dict[str, list] = {}
    districts: dict[str, dict[str, list]] = {}
    for code, (num_ids, den_ids) in METHOD.items():
        total_num = total_den = 0.0
        for unit, values in rows:
            num = 0.0
            for i in num_ids:
                num += float(values.get(i) or 0)
            den = None
            if den_ids is not None:
                den = 0.0
                for i in den_ids:
                    den += float(values.get(i) or 0)
            value = num if den is None else (num / den * 100 if den else None)
            per_unit.setdefault(unit, {})[code] = [value, num, den, None]
            total_num += num
            total_den += den or 0.0
            district = get_region(unit[:2]).federal_district
            acc = districts.setdefault(district, {}).setdefault(code, [0.0, 0.0])
            acc[0] += num
            acc[1] += den or 0.0
        national[code] = [total_num if den_ids is None else
                          (total_num / total_den * 100 if total_den else None),
                          total_num, total_den if den_ids else None]
        ordered = sorted((per_unit[u][code][0] for u, _ in rows
                          if per_unit[u][code][0] is not None), reverse=True)
        first_place: dict[float, int] = {}
        for place, value in enumerate(ordered, start=1):
            first_place.setdefault(value, place)
        for unit, _ in rows:
            value = per_unit[unit][code][0]
            per_unit[unit][code][3] = first_place.get(value) if value is not None else None
    return {"units": per_unit, "national": national, "districts": districts}


def naive_write(result: dict, path: Path) -> None:
    import openpyxl
    from openpyxl.chart import BarChart, Reference
    from cos_xl.regions import get_region
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Сводка"
    ws.append(["Код", "Значение", "Числитель", "Знаменатель"])
    for code, (value, num, den) in result["national"].items():
        ws.append([code, value, num, den])
    regions = wb.create_sheet("Регионы")
    header = ["Код", "Субъект", "Федеральный округ"]
    for code in METHOD:
        header += [f"{code} значение", "числитель", "знаменатель", "место"]
    regions.append(header)
    for district, figures in result["districts"].items():
        row = ["", district, district]
        for code in METHOD:
            num, den = figures[code]
            row += [num if METHOD[code][1] is None else (num / den * 100 if den else None),
                    num, den, None]
        regions.append(row)
    for unit, figures in sorted(result["units"].items()):
        region = get_region(unit[:2])
        row = [unit, region.full_name, region.federal_district]
        for code in METHOD:
            row += figures[code]
        regions.append(row)
    for code in METHOD:
        sheet = wb.create_sheet(f"Диаграмма {code}")
        sheet.append(["Место", "Код", "Субъект", "Значение"])
        ranked = sorted(((f[code][3], u, f[code][0]) for u, f in result["units"].items()
                         if f[code][0] is not None))
        for place, unit, value in ranked:
            sheet.append([place, unit, get_region(unit[:2]).full_name, value])
        chart = BarChart()
        chart.title = code
        chart.add_data(Reference(sheet, min_col=4, min_row=1, max_row=len(ranked) + 1),
                       titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=3, min_row=2, max_row=len(ranked) + 1))
        sheet.add_chart(chart, "F2")
    wb.save(path)


def run_naive_memory(units: int, out: Path, repeat: int) -> float:
    subs = records(units)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        rows = [(unit, dict(sub.values)) for unit, sub in sorted(subs.items())]
        naive_write(naive_compute(rows), out / "naive.xlsx")
        best = min(best, time.perf_counter() - started)
    return best


def run_naive_files(files: list[Path], units: int, out: Path) -> float:
    """Read ``files`` (cycled to ``units`` units) with openpyxl, compute, write."""
    import openpyxl

    from cos_xl.spec import load_form
    form = load_form()
    counts = [item.id for item in form.count_inputs]
    started = time.perf_counter()
    rows = []
    for index in range(units):
        path = files[index % len(files)]
        wb = openpyxl.load_workbook(path, data_only=True)
        values = {}
        for name in counts:
            sheet, cell = next(iter(wb.defined_names[form.excel_name(name)].destinations))
            values[name] = wb[sheet][cell.replace("$", "")].value
        unit = path.stem.rsplit("_", 1)[-1] if units == len(files) else (
            f"{path.stem.rsplit('_', 1)[-1]}-{index // len(files):03d}")
        rows.append((unit, values))
    naive_write(naive_compute(rows), out / "naive-files.xlsx")
    return time.perf_counter() - started


def measure_main(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if args.measure == "naive-files":
        files = sorted(Path(args.files).glob("*.xlsx"))
        seconds = run_naive_files(files, args.n, out)
    elif args.measure == "naive-memory":
        seconds = run_naive_memory(args.n, out, args.repeat)
    else:
        seconds = run_cos_xl(args.n, out, args.repeat, everything=args.measure == "cos-xl-all",
                             first=args.measure == "cos-xl-first")
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib()}))


def measure(mode: str, n: int, work: Path, repeat: int, files: Path | None = None) -> dict:
    out = work / f"{mode}-{n}"
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--measure", mode, "--n", str(n), "--out", str(out),
               "--repeat", str(repeat)]
    if files is not None:
        command += ["--files", str(files)]
    env = {**os.environ, "COS_BENCH_RECORDS": str(work / "records")}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- setup: returned workbooks for the naive file reader -------------------------------------

def make_returned_files(folder: Path) -> Path:
    """The 85 templates of 2020Q3 (.xlsx), filled with the synthetic figures by openpyxl."""
    import openpyxl

    from cos_xl.generate import generate
    from cos_xl.signing import resolve_key
    from cos_xl.spec import load_form
    form = load_form()
    generate("2020Q3", folder / "templates", resolve_key(None, dev_key=True), macros=False)
    filled = folder / "returned"
    filled.mkdir()
    for unit, sub in make_records(85).items():
        wb = openpyxl.load_workbook(folder / "templates" / f"cos_2020Q3_{unit}.xlsx")
        for name, value in sub.values.items():
            sheet, cell = next(iter(wb.defined_names[form.excel_name(name)].destinations))
            wb[sheet][cell.replace("$", "")] = value
        wb.save(filled / f"cos_2020Q3_{unit}.xlsx")
    return filled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", default="85,2500")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-files-sample", type=int, default=200)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_main(args)
        return

    work = Path(tempfile.mkdtemp(prefix="cos-bench-consolidate-"))
    try:
        setup = time.perf_counter()
        for n in {85, *(int(x) for x in args.units.split(","))}:
            with open(work / f"records-{n}.pkl", "wb") as handle:
                pickle.dump(make_records(n), handle)
        files = make_returned_files(work / "files")
        setup = time.perf_counter() - setup
        rows = []
        first = None
        for n in (int(x) for x in args.units.split(",")):
            cold = measure("cos-xl-first", n, work, 1)
            if n == 85:
                first = cold["seconds"]
            rows.append(("cos-xl consolidate + xlsx, first run in a process", n, cold))
            rows.append(("cos-xl consolidate + xlsx", n,
                         measure("cos-xl-xlsx", n, work, args.repeat)))
            rows.append(("cos-xl consolidate + xlsx + json + csv", n,
                         measure("cos-xl-all", n, work, args.repeat)))
            naive = measure("naive-memory", n, work, args.repeat)
            rows.append(("naive: values in memory, openpyxl writes", n, naive))
            sample = n if n <= 85 else min(n, args.naive_files_sample)
            from_files = measure("naive-files", sample, work, 1, files)
            label = "naive: openpyxl reads every file, writes"
            if sample != n:
                from_files = {**from_files, "seconds": from_files["seconds"] * n / sample}
                label += f" (x{n}/{sample} extrapolated)"
            rows.append((label, n, from_files))
        print(f"# consolidate: {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}; "
              f"setup (85 filled returns for the file reader) {setup:.1f} s")
        print(f"{'method':66} {'units':>5} {'total s':>8} {'peak MiB':>9} {'vs naive mem':>12} "
              f"{'vs naive files':>14}")
        for name, n, result in rows:
            naive_mem = next(r for lbl, m, r in rows if m == n and lbl.startswith(
                "naive: values"))["seconds"]
            naive_files = next(r for lbl, m, r in rows if m == n and lbl.startswith(
                "naive: openpyxl reads"))["seconds"]
            seconds = result["seconds"]
            print(f"{name:66} {n:5d} {seconds:8.3f} {result['peak_mib']:9.1f} "
                  f"{naive_mem / seconds:11.1f}x {naive_files / seconds:13.1f}x")
        if first is not None:
            verdict = "met" if first <= 1.0 else "NOT met"
            print(f"goal: 85 regions consolidated with the workbook written in <= 1 s, first run "
                  f"in a process -> {first:.2f} s ({verdict})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
