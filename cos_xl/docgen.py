"""Generated parts of the docs, so that they cannot drift from the code.

``python -m cos_xl.docgen`` rewrites the marked blocks of README.md; a test fails when they are
out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from cos_xl.spec import load_form

README = Path(__file__).resolve().parents[1] / "README.md"


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


def update(path: Path, blocks: dict, command: str, argv: list[str]) -> int:
    """Rewrite the blocks of ``path``; with ``--check`` in ``argv`` only say whether they are
    current (exit status 1 when not)."""
    text = path.read_text(encoding="utf-8")
    new = render_blocks(text, blocks)
    if "--check" in argv:
        if new != text:
            print(f"{path.name} is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(new, encoding="utf-8")
    return 0


def main() -> int:
    return update(README, BLOCKS, "python -m cos_xl.docgen", sys.argv)


if __name__ == "__main__":
    raise SystemExit(main())
