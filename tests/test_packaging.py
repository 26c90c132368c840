"""A non-editable install finds what it ships and never writes into itself: the wheel is built
from this checkout, installed into a folder of its own and run from outside the checkout."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from cos_xl.vba import wrappers

ROOT = Path(__file__).resolve().parents[1]
#: runs under LibreOffice's own Python (/usr/bin/python3 with python3-uno), not the package's
UNO_WORKER = ROOT / "cos_xl" / "office" / "uno_worker.py"


def test_a_checkout_uses_and_writes_its_own_macros_folder():
    assert wrappers.macros_dir() == ROOT / "macros"
    assert not wrappers.is_installed_package(wrappers.macros_dir())
    assert wrappers.writable_macros_dir() == ROOT / "macros"


def _imported_modules() -> dict[str, str]:
    """Top-level third-party module -> one file of cos_xl that imports it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "cos_xl").rglob("*.py")):
        if path == UNO_WORKER:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "cos_xl" and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_a_declared_dependency():
    """An installed package has only what pyproject.toml declares: a module imported directly
    must be declared, not merely arrive with another package or sit in the developer's venv."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_canonical(re.split(r"[\s\[<>=!~;]", dep, maxsplit=1)[0])
                for dep in project["dependencies"]}
    distributions = packages_distributions()
    undeclared = {module: where for module, where in _imported_modules().items()
                  if not declared & {_canonical(d) for d in distributions.get(module, [module])}}
    assert not undeclared, f"imported but not in [project].dependencies: {undeclared}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel of this checkout installed (without dependencies: the test environment has
    them) into a folder that only ``PYTHONPATH`` names. Offline: hatchling is a test extra."""
    tmp = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(tmp / "dist"), str(ROOT)], check=True, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("cos_xl-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(tmp / "site"),
                    str(wheel)], check=True, cwd=tmp)
    return tmp


def run(installed: Path, *args: str) -> subprocess.CompletedProcess:
    """``python *args`` in a folder outside the checkout, seeing the installed copy first (it
    stands before the editable install's path entry)."""
    elsewhere = installed / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS")}
    env["PYTHONPATH"] = str(installed / "site")
    return subprocess.run([sys.executable, *args], cwd=elsewhere, env=env,
                          capture_output=True, text=True, encoding="utf-8")


def cli(installed: Path, *args: str) -> subprocess.CompletedProcess:
    return run(installed, "-m", "cos_xl.cli", *args)


@pytest.mark.slow
def test_the_wheel_carries_the_templates_and_the_macros(installed):
    (wheel,) = (installed / "dist").glob("cos_xl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ["cos_xl/_templates/cos-2020.toml", "cos_xl/_macros/xlwings_udfs.bas",
                 "cos_xl/_macros/xlwings.bas", "cos_xl/_macros/Dictionary.cls",
                 "cos_xl/_macros/README.md", "cos_xl/regions/regions.csv",
                 "cos_xl/ledger/migrations/script.py.mako"]:
        assert name in names, name


@pytest.mark.slow
def test_the_installed_package_reads_only_what_it_ships(installed):
    site = installed / "site" / "cos_xl"
    done = run(installed, "-c", "\n".join([
        "import cos_xl, cos_xl.docgen, cos_xl.consolidate.docs",
        "from cos_xl.spec.loader import templates_dir",
        "from cos_xl.vba import wrappers",
        "print(cos_xl.__file__, templates_dir(), wrappers.macros_dir(), sep='\\n')",
    ]))
    assert done.returncode == 0, done.stderr
    module, templates, macros = (Path(line) for line in done.stdout.splitlines())
    assert module == site / "__init__.py"
    assert templates == site / "_templates"
    assert macros == site / "_macros"

    check = cli(installed, "macros", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "актуальны" in check.stdout + check.stderr


@pytest.mark.slow
def test_the_installed_package_is_never_written_to(installed):
    site = installed / "site" / "cos_xl"
    before = {p: p.stat().st_mtime_ns for p in (site / "_macros").iterdir()}
    done = run(installed, "-c", "\n".join([
        "from cos_xl.errors import CosXlError",
        "from cos_xl.vba import wrappers",
        "try:",
        "    wrappers.writable_macros_dir()",
        "except CosXlError as exc:",
        "    print(exc)",
    ]))
    assert done.returncode == 0, done.stderr
    assert "установлен как пакет" in done.stdout and "--dir" in done.stdout

    # --dir is the way to write the sources out of an installed package
    written = cli(installed, "macros", "--dir", str(installed / "vba"))
    assert written.returncode == 0, written.stdout + written.stderr
    assert {p.name for p in (installed / "vba").iterdir()} == set(wrappers.expected_files())
    assert cli(installed, "macros", "--check", "--dir", str(installed / "vba")).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in (site / "_macros").iterdir()} == before

    docgen = run(installed, "-m", "cos_xl.docgen", "--check")
    assert docgen.returncode == 2 and "рабочей копии" in docgen.stderr


@pytest.mark.slow
def test_the_installed_package_generates_validates_and_runs_the_demo(installed):
    out = installed / "round"
    generated = cli(installed, "generate", "--period", "2020Q3", "--regions", "77",
                    "--out", str(out / "templates"), "--dev-key")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert (out / "templates" / "cos_2020Q3_77.xlsm").is_file()
    validated = cli(installed, "validate", str(out / "templates"), "--dev-key")
    assert validated.returncode in (0, 1), validated.stdout + validated.stderr
    assert "Traceback" not in validated.stdout + validated.stderr

    demo = cli(installed, "demo", "--out", str(out / "demo"))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Субъектов: 85" in demo.stdout
    assert (out / "demo" / "ledger.sqlite").is_file()


@pytest.mark.slow
def test_cos_xl_macros_refuses_to_write_into_the_installed_package(installed):
    site = installed / "site" / "cos_xl"
    before = {p: p.stat().st_mtime_ns for p in (site / "_macros").iterdir()}
    done = cli(installed, "macros")
    after = {p: p.stat().st_mtime_ns for p in (site / "_macros").iterdir()}
    assert (done.returncode, after) == (2, before), done.stdout + done.stderr
    assert "--dir" in done.stderr
