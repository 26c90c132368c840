"""Generated parts of docs/national.md (sheets, JSON schema, CSV columns), so that the document
cannot drift from the code. ``python -m cos_xl.consolidate.docs`` rewrites the marked blocks;
``--check`` fails when they are out of date (a test does the same)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cos_xl.consolidate.exports import CSV_COLUMNS, JSON_SCHEMA
from cos_xl.consolidate.xlsx import SHEET_CONTENTS
from cos_xl.docgen import render_blocks, update

DOC = Path(__file__).resolve().parents[2] / "docs" / "national.md"


def sheets_table() -> str:
    rows = ["| sheet | what |", "| --- | --- |"]
    rows += [f"| {name} | {what} |" for name, what in SHEET_CONTENTS.items()]
    return "\n".join(rows)


def json_schema_block() -> str:
    return "```json\n" + json.dumps(JSON_SCHEMA, indent=2, ensure_ascii=False) + "\n```"


def csv_table() -> str:
    rows = ["| # | column | what |", "| --- | --- | --- |"]
    rows += [f"| {i} | {name} | {what} |" for i, (name, what) in enumerate(CSV_COLUMNS, 1)]
    return "\n".join(rows)


BLOCKS = {"sheets": sheets_table, "json-schema": json_schema_block, "csv-columns": csv_table}


def render(text: str) -> str:
    return render_blocks(text, BLOCKS)


def main() -> int:
    return update(DOC, BLOCKS, "python -m cos_xl.consolidate.docs", sys.argv)


if __name__ == "__main__":
    raise SystemExit(main())
