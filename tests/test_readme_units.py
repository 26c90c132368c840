"""The README's commands for regional coordinators, run as written (``cos-xl`` is the package's
entry point): if a command or an option changes, this test fails."""

from __future__ import annotations

import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path

from cos_xl.fill import fill_workbook
from cos_xl.demo.units import sample_unit, unit_shares
from cos_xl.demo.units_round import shipped_units
from cos_xl.generate import generate
from cos_xl.periods import Period
from cos_xl.regions import get_region
from cos_xl.signing import resolve_key
from cos_xl.units import load_units
from cos_xl.validate.run import validate_file
from helpers import cos_xl

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Сбор внутри субъекта"
TEXTS = ('[rollup]\nresp_name = "Иванова Мария Петровна"\nresp_position = "Консультант"\n'
         'resp_phone = "+7 (495) 123-45-67"\nresp_email = "ivanova@edu.example.ru"\n')


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    joined = block.replace("\\\n", " ")
    return [line.split("#", 1)[0].strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def run(line: str, cwd: Path) -> subprocess.CompletedProcess:
    args = shlex.split(line)
    assert args[0] == "cos-xl", line
    return cos_xl(*args[1:], cwd=cwd, columns=160)


def test_the_regional_coordinators_commands_work_as_written(tmp_path):
    commands = readme_commands()
    assert commands[0].startswith("openssl rand -hex 32 > region.key")
    (tmp_path / "region.key").write_text(secrets.token_hex(32) + "\n")
    shutil.copyfile(shipped_units("77"), tmp_path / "units_77.csv")
    (tmp_path / "region.toml").write_text(TEXTS, encoding="utf-8")
    federal = resolve_key(None, dev_key=False, env={"COS_XL_SIGNING_KEY": "f" * 64})
    template = generate("2020Q4", tmp_path / "from-federal", federal, regions=["77"]).paths[0]
    shutil.copyfile(template, tmp_path / template.name)
    units = load_units(tmp_path / "units_77.csv")
    shares = unit_shares(units)
    seen = []
    for line in commands[1:]:
        verb = shlex.split(line)[1]
        if verb == "intake":  # the municipalities fill their workbooks and send them
            inbox = tmp_path / "inbox"
            inbox.mkdir()
            for unit in units:
                book = tmp_path / "mo" / f"cos_2020Q4_77_{unit.unit_id}.xlsm"
                values = sample_unit(get_region("77"), "2020Q4", shares[unit.unit_id])
                (inbox / book.name).write_bytes(fill_workbook(book.read_bytes(), values))
        done = run(line, tmp_path)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        seen.append(verb)
    assert seen == ["ledger", "generate", "intake", "status", "rollup"]
    rolled = tmp_path / "to-federal" / template.name
    checked = validate_file(rolled, federal)
    assert checked.verdict == "PASS", checked.findings
    assert [f.code for f in checked.findings] == ["rollup-sheet"]
    # a unit's workbook is signed with the region's key: the federal key refuses it
    unit_book = next((tmp_path / "inbox").iterdir())
    assert [f.code for f in validate_file(unit_book, federal).findings] == [
        "manifest-signature-invalid"]


def test_the_readmes_campaign_example_is_a_valid_campaign(tmp_path):
    from cos_xl.campaign import load_campaign
    text = README.read_text(encoding="utf-8")
    start = text.index("Campaign configuration")
    block = re.search(r"```toml\n(.*?)```", text[start:], re.DOTALL).group(1)
    (tmp_path / "campaign.toml").write_text(block, encoding="utf-8")
    campaign = load_campaign(tmp_path / "campaign.toml")
    assert campaign.rollup["resp_name"] == "Иванова Мария Петровна"
    assert str(campaign.deadline(Period.parse("2020Q3"))) == "2020-10-15"
