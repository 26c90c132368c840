"""cos_xl.office: workbooks go through a real headless LibreOffice (skip on a laptop, fail in CI)."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from cos_xl.errors import OfficeError, OfficeUnavailable
from cos_xl.office import FILTERS, LibreOffice, libreoffice_available, recalculate
from cos_xl.office.libreoffice import _pipe_paths, find_soffice, find_uno_python, group_processes
from conftest import require_tool

SHEET = "Данные"


def make_workbook(path: Path) -> Path:
    """A protected sheet with two unlocked inputs, named cells and a few formulas."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    unlocked = wb.add_format({"locked": False})
    ws.write_string("A1", "Показатель")
    ws.write_string("A2", "Обучающихся")
    ws.write_number("B2", 0, unlocked)
    ws.write_string("A3", "Из них 403")
    ws.write_number("B3", 0, unlocked)
    ws.write_blank("B4", None, unlocked)  # unlocked, empty
    wb.define_name("students_go", f"='{SHEET}'!$B$2")
    wb.define_name("e403_go", f"='{SHEET}'!$B$3")
    ws.write_formula("D2", '=IF(students_go=0,"",e403_go/students_go*100)')
    wb.define_name("IND_X", f"='{SHEET}'!$D$2")
    ws.write_formula("D3", "=1/0")
    ws.write_formula("D4", '=1+"abc"')
    ws.write_formula("D5", "=NOSUCHFUNC(1)")
    ws.write_formula("D6", "=NA()")
    ws.write_formula("D7", "=SQRT(-1)")
    ws.write_formula("D8", "=EXP(1000)")
    ws.write_formula("D9", "=B4*2")
    ws.protect()
    wb.close()
    return path


def wait_group_gone(pgid: int, seconds: float = 5.0) -> list:
    deadline = time.monotonic() + seconds
    while True:
        left = group_processes(pgid)
        if not left or time.monotonic() > deadline:
            return left or []
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """True for a live process; zombies waiting for init to reap them count as gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.fixture(scope="module")
def office():
    require_tool(libreoffice_available(), "LibreOffice headless (soffice + python3-uno)")
    with LibreOffice() as lo:
        print(f"soffice started in {lo.startup_seconds:.2f} s")
        yield lo


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return make_workbook(tmp_path_factory.mktemp("office") / "форма.xlsx")


# -- no LibreOffice needed ----------------------------------------------------------------------
def test_missing_soffice_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("COS_XL_SOFFICE", str(tmp_path / "no-such-soffice"))
    assert find_soffice() is None
    with pytest.raises(OfficeUnavailable, match="apt-get install libreoffice-calc-nogui python3-uno"):
        LibreOffice()


def test_python_without_uno_is_not_a_uno_python(monkeypatch):
    monkeypatch.setenv("COS_XL_UNO_PYTHON", sys.executable)  # the project's Python has no uno
    assert find_uno_python() is None


def test_filters_are_the_ones_libreoffice_74_registers():
    assert FILTERS[".xlsx"] == "Calc MS Excel 2007 XML"
    assert FILTERS[".xlsm"] == "Calc MS Excel 2007 VBA XML"


# -- the real thing -------------------------------------------------------------------------------
@pytest.mark.libreoffice
def test_names_and_refs_set_and_formula_recomputed(office, book):
    got = office.process(
        book,
        set_values={"students_go": 40, f"'{SHEET}'!B3": 10},
        read=["IND_X", f"{SHEET}!B2", f"'{SHEET}'!$B$3", f"{SHEET}!A2", f"{SHEET}!B4", "e403_go"],
    )
    assert got == {
        "IND_X": 25.0,
        f"{SHEET}!B2": 40.0,
        f"'{SHEET}'!$B$3": 10.0,
        f"{SHEET}!A2": "Обучающихся",
        f"{SHEET}!B4": None,
        "e403_go": 10.0,
    }
    assert type(got["IND_X"]) is float


@pytest.mark.libreoffice
def test_zero_denominator_gives_empty_string_not_none(office, book):
    got = office.process(book, set_values={"students_go": 0, "e403_go": 5}, read=["IND_X"])
    assert got == {"IND_X": ""}


@pytest.mark.libreoffice
def test_text_and_clearing_inputs(office, book):
    got = office.process(
        book,
        set_values={"students_go": "сорок", f"'{SHEET}'!B4": 3, "e403_go": None},
        read=["students_go", "e403_go", "IND_X", f"'{SHEET}'!D9"],
    )
    # text in a number cell stays text (never parsed); cleared cell reads None
    assert got == {
        "students_go": "сорок",
        "e403_go": None,
        "IND_X": {"error": "#VALUE!"},
        f"'{SHEET}'!D9": 6.0,
    }


@pytest.mark.libreoffice
def test_error_codes(office, book):
    refs = [f"'{SHEET}'!D{r}" for r in range(3, 9)]
    got = office.process(book, read=refs)
    assert [got[r] for r in refs] == [
        {"error": "#DIV/0!"},  # 532
        {"error": "#VALUE!"},  # 519
        {"error": "#NAME?"},  # 525
        {"error": "#N/A"},  # 32767
        {"error": "Err:502"},  # SQRT(-1): Excel says #NUM!, LibreOffice "invalid argument"
        {"error": "#NUM!"},  # 503
    ]
    # a range reads as rows
    assert office.process(book, read=[f"{SHEET}!D3:D4"]) == {
        f"{SHEET}!D3:D4": [[{"error": "#DIV/0!"}], [{"error": "#VALUE!"}]]
    }


@pytest.mark.libreoffice
def test_locked_cell_is_refused_with_its_name(office, book):
    with pytest.raises(OfficeError, match=r"'Данные'!D2 .*IND_X.* locked") as err:
        office.process(book, set_values={"IND_X": 1})
    assert "форма.xlsx" in str(err.value)
    with pytest.raises(OfficeError, match=r"'Данные'!A2 .*locked"):
        office.process(book, set_values={f"{SHEET}!A2": "x"})
    # deliberately tampering is possible
    got = office.process(book, set_values={f"{SHEET}!A2": "x"}, read=[f"{SHEET}!A2"],
                         allow_locked=True)
    assert got == {f"{SHEET}!A2": "x"}


@pytest.mark.libreoffice
def test_unknown_keys_and_missing_file(office, book, tmp_path):
    with pytest.raises(OfficeError, match="no workbook-level defined name 'nope'"):
        office.process(book, read=["nope"])
    with pytest.raises(OfficeError, match="no sheet 'Лист1'"):
        office.process(book, read=["Лист1!A1"])
    missing = tmp_path / "нет такого.xlsx"
    with pytest.raises(OfficeError, match="нет такого.xlsx"):
        office.process(missing, read=["IND_X"])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a workbook")
    with pytest.raises(OfficeError, match="broken.xlsx"):
        office.process(broken, read=["IND_X"])


@pytest.mark.libreoffice
def test_save_as_xlsx_keeps_values_protection_and_names(office, book, tmp_path):
    out = tmp_path / "сохранено.xlsx"
    got = office.process(book, set_values={"students_go": 8, "e403_go": 2}, read=["IND_X"],
                         save_as=out)
    assert got == {"IND_X": 25.0}
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb[SHEET]
    assert ws["D2"].value == 25  # the cached value LibreOffice wrote
    assert ws["B2"].value == 8
    assert ws["D3"].value == "#DIV/0!"
    assert ws.protection.sheet is True
    assert ws["B2"].protection.locked is False and ws["D2"].protection.locked is True
    assert {"students_go", "e403_go", "IND_X"} <= set(wb.defined_names)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".~lock")]
    # the saved file reads back without recalculation: the cached values are right
    assert office.process(out, read=["IND_X"], recalc=False) == {"IND_X": 25.0}


@pytest.mark.libreoffice
def test_save_as_empty_string_and_xlsm(office, book, tmp_path):
    out = tmp_path / "zero.xlsm"
    office.process(book, set_values={"students_go": 0}, save_as=out)
    with zipfile.ZipFile(out) as z:
        assert b"sheet.macroEnabled.main+xml" in z.read("[Content_Types].xml")
    # LibreOffice writes the "" result as <c t="str"><v></v></c>; openpyxl reads that as None
    assert openpyxl.load_workbook(out, data_only=True)[SHEET]["D2"].value is None


@pytest.mark.libreoffice
def test_two_calls_reuse_one_soffice_and_do_not_touch_the_file(office, book):
    pid = office.soffice_pid
    before = book.read_bytes()
    assert office.process(book, set_values={"students_go": 4, "e403_go": 1},
                          read=["IND_X"]) == {"IND_X": 25.0}
    assert office.process(book, set_values={"students_go": 3, "e403_go": 1},
                          read=["IND_X"]) == {"IND_X": pytest.approx(100 / 3, rel=1e-15)}
    assert office.soffice_pid == pid
    # without save_as nothing is written back; the next call sees the file as generated
    assert office.process(book, read=["students_go", "IND_X"]) == {"students_go": 0.0,
                                                                    "IND_X": ""}
    assert book.read_bytes() == before


@pytest.mark.libreoffice
def test_timeout_kills_then_restarts_and_exit_cleans_up_even_on_error(book):
    require_tool(libreoffice_available(), "LibreOffice headless (soffice + python3-uno)")
    with pytest.raises(RuntimeError, match="boom"):
        with LibreOffice() as lo:
            first, tmpdir = lo.soffice_pid, lo._h.tmpdir
            sockets = _pipe_paths(lo._h)
            assert len(sockets) == 2 and all(os.path.exists(p) for p in sockets)
            assert group_processes(first)  # soffice really runs in its own process group
            with pytest.raises(OfficeError, match="did not answer within"):
                lo.process(book, read=["IND_X"], timeout=0.001)
            assert not lo.running and wait_group_gone(first) == []
            assert not tmpdir.exists()
            assert not any(os.path.exists(p) for p in sockets)  # killed soffice leaves them
            # the next call starts a fresh soffice
            assert lo.process(book, set_values={"students_go": 2, "e403_go": 1},
                              read=["IND_X"]) == {"IND_X": 50.0}
            second, worker, tmpdir = lo.soffice_pid, lo.worker_pid, lo._h.tmpdir
            sockets = _pipe_paths(lo._h)
            assert second != first
            raise RuntimeError("boom")
    assert wait_group_gone(second) == []
    assert not pid_alive(second) and not pid_alive(worker)
    assert not tmpdir.exists()
    assert not any(os.path.exists(p) for p in sockets)
    assert lo.soffice_pid is None and lo.worker_pid is None


@pytest.mark.libreoffice
def test_recalculate_convenience(book, tmp_path):
    require_tool(libreoffice_available(), "LibreOffice headless (soffice + python3-uno)")
    out = tmp_path / "r.xlsx"
    got = recalculate(book, set_values={"students_go": 10, "e403_go": 7}, read=["IND_X"],
                      save_as=out)
    assert got == {"IND_X": 70.0}
    assert openpyxl.load_workbook(out, data_only=True)[SHEET]["D2"].value == 70


@pytest.mark.libreoffice
def test_soffice_that_dies_or_hangs_gives_a_clear_error(tmp_path, monkeypatch):
    require_tool(libreoffice_available(), "LibreOffice headless (soffice + python3-uno)")
    dies = tmp_path / "dies"
    dies.write_text("#!/bin/sh\necho cannot start >&2\nexit 3\n")
    hangs = tmp_path / "hangs"
    hangs.write_text("#!/bin/sh\nexec sleep 60\n")
    for script in (dies, hangs):
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args, **kwargs):
        made.append(Path(real_mkdtemp(*args, **kwargs)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)

    lo = LibreOffice(soffice=str(dies), startup_timeout=10)
    with pytest.raises(OfficeError, match=r"(?s)exited with code 3.*cannot start"):
        lo.start()
    assert lo.soffice_pid is None

    lo = LibreOffice(soffice=str(hangs), startup_timeout=1)
    t0 = time.monotonic()
    with pytest.raises(OfficeError, match="did not come up within 1 s"):
        with lo:
            pass
    assert time.monotonic() - t0 < 15
    assert lo.soffice_pid is None
    assert len(made) == 2 and not any(p.exists() for p in made)  # profiles removed
