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
