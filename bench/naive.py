"""The naive baseline the benchmarks measure against: what a reader with openpyxl alone does to
get a returned workbook's figures."""

from __future__ import annotations

import json
from pathlib import Path


def naive_read(path: Path) -> tuple[dict, dict]:
    """(manifest, input values by id) of a returned workbook, by an openpyxl full load
    (formulas, styles, validations) and the cells the manifest names."""
    import openpyxl
    wb = openpyxl.load_workbook(path)
    manifest = json.loads(wb["_manifest"]["B1"].value)
    values = {}
    for name, address in manifest["inputs"].items():
        sheet, cell = address.rsplit("!", 1)
        values[name] = wb[sheet][cell].value
    return manifest, values


def naive_intake(files: list[Path], db_path: str) -> list[float]:
    """The naive intake: per file an openpyxl full load and one row (region, unit, period,
    digest, bytes, values) inserted and committed into SQLite; the seconds of each file."""
    import hashlib
    import sqlite3
    import time
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS submissions (region TEXT, unit TEXT, period TEXT, "
               "sha256 TEXT, data BLOB, values_json TEXT)")
    times = []
    for path in files:
        started = time.perf_counter()
        data = path.read_bytes()
        manifest, values = naive_read(path)
        db.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?)",
                   (manifest["region_code"], (manifest.get("unit") or {}).get("id"),
                    manifest["period"], hashlib.sha256(data).hexdigest(), data,
                    json.dumps(values, default=str)))
        db.commit()
        times.append(time.perf_counter() - started)
    db.close()
    return times
