"""Generated parts of the docs, so that they cannot drift from the code.

``python -m cos_xl.docgen`` rewrites the marked blocks of README.md; a test fails when they are
out of date. ``python -m cos_xl.docgen --demo`` runs the demo and rewrites the README's excerpt
of its output (slow, so apart; a slow test checks it against a real run, timings aside).

These are developer commands: they work in a checkout, where README.md is. An installed package
imports this module without reading anything.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from cos_xl.errors import CosXlError
from cos_xl.spec import load_form

README = Path(__file__).resolve().parents[1] / "README.md"
#: what ``make demo`` prints before the demo's own output (the Makefile's recipe)
DEMO_COMMAND = ".venv/bin/python -m cos_xl.cli demo --out demo-out"
#: rows of the status table the excerpt keeps before «…» (and the last row after it)
DEMO_STATUS_ROWS = 3
_TIMING = re.compile(r"\d+\.\d+ с\b")


def names_table() -> str:
    form = load_form()
    rows = ["| defined name | what | sheet |", "| --- | --- | --- |"]
    for item in form.inputs:
        sheet = "Титул" if item.section == "responsible" else "Данные"
        rows.append(f"| `{form.excel_name(item.id)}` | {item.short} | {sheet} |")
    for ind in form.indicators:
        spec = ind.spec
        rows.append(f"| `{spec.name}` | {spec.code} {spec.short}, {spec.unit} "
                    f"(UDF `{spec.udf}`) | Показатели |")
    rows += ["| `region_code`, `period`, `deadline` | код субъекта, период, срок | Титул |",
             ("| `NUM_*`, `DEN_*`, `PREV_*`, `PREV_SAME_YEAR` | числитель, знаменатель, "
              "предыдущее значение | Показатели |"),
             "| `CHECK_ERRORS`, `CHECK_WARNINGS`, `CHECK_STATUS` | итог проверок | Проверки |"]
    return "\n".join(rows)


def codes_table() -> str:
    from cos_xl.validate.catalogue import catalogue
    rows = ["| stage | code | severity | title |", "| --- | --- | --- | --- |"]
    rows += [f"| {c.stage} | `{c.code}` | {c.severity} | {c.title} |" for c in catalogue()]
    return "\n".join(rows)


BLOCKS = {"names": names_table, "codes": codes_table}


def render_blocks(text: str, blocks: dict) -> str:
    """``text`` with each ``<!-- name:start -->…<!-- name:end -->`` block made anew."""
    for block, make in blocks.items():
        pattern = re.compile(rf"(<!-- {block}:start -->\n)(?:.*?\n)?(<!-- {block}:end -->)", re.S)
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def render(text: str) -> str:
    return render_blocks(text, BLOCKS)


def _no_checkout(path: Path, command: str) -> int:
    print(f"{path}: нет файла; {command} работает в рабочей копии проекта (a checkout), "
          "не в установленном пакете", file=sys.stderr)
    return 2


def update(path: Path, blocks: dict, command: str, argv: list[str]) -> int:
    """Rewrite the blocks of ``path``; with ``--check`` in ``argv`` only say whether they are
    current (exit status 1 when not)."""
    if not path.is_file():
        return _no_checkout(path, command)
    text = path.read_text(encoding="utf-8")
    new = render_blocks(text, blocks)
    if "--check" in argv:
        if new != text:
            print(f"{path.name} is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(new, encoding="utf-8")
    return 0


def run_demo_output(folder: Path) -> str:
    """What ``cos-xl demo --out demo-out`` prints, run in ``folder`` (so the paths it prints are
    those of ``make demo``), as a pipe shows it: 110 columns, no colours."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    done = subprocess.run([sys.executable, "-m", "cos_xl.cli", "demo", "--out", "demo-out"],
                          cwd=folder, env=env, capture_output=True, text=True, encoding="utf-8")
    if done.returncode != 0:
        raise CosXlError(f"cos-xl demo failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def _cut_status_table(lines: list[str]) -> list[str]:
    """The status table (the first table) cut to its first rows, «…» and its last row; a row
    goes on over the lines whose first cell is empty (a wrapped region name)."""
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    body = next(i for i in range(top, len(lines)) if lines[i].startswith("┡")) + 1
    bottom = next(i for i in range(body, len(lines)) if lines[i].startswith("└"))
    rows: list[list[str]] = []
    for line in lines[body:bottom]:
        if line.split("│")[1].strip() or not rows:
            rows.append([])
        rows[-1].append(line)
    if len(rows) <= DEMO_STATUS_ROWS + 1:
        return lines
    cells = rows[0][0].split("│")[1:-1]
    gap = "│" + "│".join((" …" + " " * (len(c) - 2)) if i == 0 else " " * len(c)
                         for i, c in enumerate(cells)) + "│"
    kept = [line for row in rows[:DEMO_STATUS_ROWS] for line in row] + [gap] + rows[-1]
    return lines[:body] + kept + lines[bottom:]


def demo_block(output: str) -> str:
    """The README's demo excerpt made from the demo's output."""
    lines = [line.rstrip() for line in output.strip("\n").splitlines()]
    return "\n".join(["```", "$ make demo", DEMO_COMMAND, *_cut_status_table(lines), "```"])


def without_timings(text: str) -> str:
    """``text`` with every duration («2.9 с») blanked: what is compared with a fresh run."""
    return _TIMING.sub("… с", text)


def demo_excerpt(text: str) -> str:
    """The demo block of README ``text`` (between its markers)."""
    match = re.search(r"<!-- demo:start -->\n(.*?)\n?<!-- demo:end -->", text, re.S)
    if match is None:
        raise ValueError("README.md has no <!-- demo:start --> … <!-- demo:end --> block")
    return match.group(1)


def update_demo(path: Path, argv: list[str]) -> int:
    """Run the demo and rewrite the demo block of ``path``; with ``--check`` only say whether
    the block agrees with the run, timings aside (exit status 1 when not)."""
    command = "python -m cos_xl.docgen --demo"
    if not path.is_file():
        return _no_checkout(path, command)
    with tempfile.TemporaryDirectory(prefix="cos-xl-demo-") as folder:
        block = demo_block(run_demo_output(Path(folder)))
    if "--check" in argv:
        if without_timings(demo_excerpt(path.read_text(encoding="utf-8"))) != without_timings(
                block):
            print(f"{path.name}: the demo excerpt is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    return update(path, {"demo": lambda: block}, command, [])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--demo" in argv:
        return update_demo(README, argv)
    return update(README, BLOCKS, "python -m cos_xl.docgen", argv)


if __name__ == "__main__":
    raise SystemExit(main())
