"""The README's demo excerpt is what the demo prints: the generator's cutting on a small table,
and the excerpt against a real run (durations aside)."""

from __future__ import annotations

import pytest

from cos_xl import docgen

TABLE = """\
Период 2020Q3, срок 15.10.2020
┏━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━┓
┃ Код ┃ Субъект    ┃ Статус      ┃
┡━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━┩
│ 01  │ Адыгея     │ принят с    │
│     │            │ предупрежд. │
│ 02  │ Республика │ принят      │
│     │ Алтай      │             │
│ 03  │ Бурятия    │ отклонён    │
│ 04  │ Алтай      │ принят      │
│ 92  │ г. Севасто │ принят      │
│     │ поль       │             │
└─────┴────────────┴─────────────┘
Готово за 12.5 с. Файлы:
"""


def test_the_status_table_keeps_three_whole_rows_and_the_last():
    block = docgen.demo_block(TABLE).splitlines()
    assert block[:3] == ["```", "$ make demo", docgen.DEMO_COMMAND]
    body = block[block.index("┡━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━┩") + 1:block.index(
        "└─────┴────────────┴─────────────┘")]
    assert body == ["│ 01  │ Адыгея     │ принят с    │",
                    "│     │            │ предупрежд. │",
                    "│ 02  │ Республика │ принят      │",
                    "│     │ Алтай      │             │",
                    "│ 03  │ Бурятия    │ отклонён    │",
                    "│ …   │            │             │",
                    "│ 92  │ г. Севасто │ принят      │",
                    "│     │ поль       │             │"]
    assert docgen.without_timings(block[-2]) == "Готово за … с. Файлы:"


def test_the_readme_has_one_demo_excerpt():
    excerpt = docgen.demo_excerpt(docgen.README.read_text(encoding="utf-8"))
    assert excerpt.startswith("```\n$ make demo\n" + docgen.DEMO_COMMAND + "\n")
    assert excerpt.endswith("\n```")


@pytest.mark.slow
def test_the_readme_demo_excerpt_is_a_real_run(tmp_path):
    """Every line but the durations: the counts of the round, the status table, the national
    values. When it fails: python -m cos_xl.docgen --demo."""
    fresh = docgen.demo_block(docgen.run_demo_output(tmp_path))
    excerpt = docgen.demo_excerpt(docgen.README.read_text(encoding="utf-8"))
    assert docgen.without_timings(excerpt).splitlines() == docgen.without_timings(
        fresh).splitlines(), "run: python -m cos_xl.docgen --demo"
    assert any(line.startswith("Субъектов: 85; принято: ") for line in fresh.splitlines())
