"""Docs that cannot drift: generated README blocks are current, every command is documented."""

from __future__ import annotations

from cos_xl import docgen
from cos_xl.cli import app


def test_generated_readme_blocks_are_current():
    text = docgen.README.read_text(encoding="utf-8")
    assert docgen.render(text) == text, "run: python -m cos_xl.docgen"
    for block in docgen.BLOCKS:
        assert f"<!-- {block}:start -->\n<!-- {block}:end -->" not in text, block


def test_every_command_is_in_the_readme():
    text = docgen.README.read_text(encoding="utf-8")
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        assert f"cos-xl {name}" in text, name


def test_readme_quick_start_matches_makefile_and_ci():
    text = docgen.README.read_text(encoding="utf-8")
    makefile = (docgen.README.parent / "Makefile").read_text(encoding="utf-8")
    ci = (docgen.README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert "\ndemo:" in makefile.replace("demo: install", "demo:") and "\ntest:" in makefile
    assert ci.strip().splitlines()[-1] == "make test"
    assert "make test" in text.split("## What the round looks like")[0]
