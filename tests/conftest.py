"""Shared fixtures: tools that a test needs must fail, not skip, when CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def require_tool(available: bool, what: str) -> None:
    """Skip on a developer laptop, fail under CI=true, when a real tool is missing."""
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true but is not installed")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def office():
    """One LibreOffice headless per test module (skips on a laptop without it, fails in CI)."""
    from cos_xl.office import LibreOffice, libreoffice_available
    require_tool(libreoffice_available(),
                 "LibreOffice headless (libreoffice-calc-nogui, python3-uno)")
    with LibreOffice() as lo:
        yield lo


# --- the submissions ledger: PostgreSQL, databases, returned workbooks -------------------------

PG_URL_ENV = "COS_XL_TEST_PG_URL"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"postgres: needs PostgreSQL at ${PG_URL_ENV} (fails instead of skipping "
                   "when CI=true)")


@pytest.fixture(scope="session")
def pg_server_url():
    """The PostgreSQL test database (.ci/run starts one on loopback and sets the variable)."""
    url = os.environ.get(PG_URL_ENV, "")
    require_tool(bool(url), f"PostgreSQL (set {PG_URL_ENV}=postgresql://…)")
    return url


@pytest.fixture
def pg_url(pg_server_url):
    """A URL of the test database whose search_path is a fresh schema, dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    from cos_xl.ledger.db import ledger_url
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(ledger_url(pg_server_url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        require_tool(False, f"PostgreSQL at {PG_URL_ENV} ({exc.orig})")
    separator = "&" if "?" in pg_server_url else "?"
    yield f"{pg_server_url}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path):
    """An empty ledger's URL: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def make_return(tmp_path_factory):
    """make_return(folder, region, changes=None, period=…, name=None) -> Path: a generated
    template (development key) with the inputs of ``CLEAN`` plus ``changes`` written into its
    input cells with openpyxl (keep_vba), as a region would return it — PASS_WITH_WARNINGS
    for clean figures (openpyxl keeps the template's cached indicator values). Each distinct
    workbook is built once per session and copied."""
    import json
    import shutil

    import openpyxl
    from helpers import build
    from test_validate_values import CLEAN

    from cos_xl.validate.reader import split_address

    cache = tmp_path_factory.mktemp("returns")
    built: dict[str, Path] = {}

    def make(folder, region="77", changes=None, period="2020Q3", name=None):
        values = {**CLEAN, **(changes or {})}
        key = json.dumps([region, period, values], sort_keys=True, ensure_ascii=False)
        if key not in built:
            data, manifest = build(region=region, period=period)
            template = cache / f"template_{len(built)}.xlsm"
            template.write_bytes(data)
            wb = openpyxl.load_workbook(template, keep_vba=True)
            for input_id, value in values.items():
                sheet, row, col = split_address(manifest["inputs"][input_id])
                wb[sheet].cell(row + 1, col + 1, value)
            built[key] = cache / f"return_{len(built)}.xlsm"
            wb.save(built[key])
        target = Path(folder) / (name or f"cos_{period}_{region}.xlsm")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[key], target)
        return target

    return make
