"""Run generated workbooks through a real headless LibreOffice.

LibreOffice's Python bridge (``uno``) imports only under the Python it was built for (Debian:
``/usr/bin/python3`` with the ``python3-uno`` package), not under the project's Python. So this
module starts ``soffice`` itself and talks JSON lines to a small worker script
(:mod:`cos_xl.office.uno_worker`) that runs under the UNO Python and drives soffice over a pipe.

    with LibreOffice() as lo:
        values = lo.process("form.xlsx", set_values={"students_go": 10, "'Данные'!B3": 7},
                            read=["IND_X"], save_as="out.xlsx")

One ``LibreOffice`` holds one soffice (a few seconds to start) and one worker for any number of
:meth:`LibreOffice.process` calls; leaving the ``with`` block always kills both and removes the
private user profile.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cos_xl.errors import OfficeError, OfficeUnavailable

__all__ = [
    "FILTERS",
    "LibreOffice",
    "find_soffice",
    "find_uno_python",
    "libreoffice_available",
    "recalculate",
]

INSTALL_HINT = "apt-get install libreoffice-calc-nogui python3-uno"

#: Export filter per file extension (names as registered in LibreOffice 7.4's calc.xcd).
FILTERS: dict[str, str] = {
    ".xlsx": "Calc MS Excel 2007 XML",
    ".xlsm": "Calc MS Excel 2007 VBA XML",
    ".xls": "MS Excel 97",
    ".ods": "calc8",
    ".csv": "Text - txt - csv (StarCalc)",
}

WORKER_SCRIPT = Path(__file__).with_name("uno_worker.py")
UNO_PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python")

# Written into the fresh profile before soffice first starts: no ".~lock.<file>#" next to the
# documents we open (and none left behind if soffice has to be killed). In 7.4 it is UseLocking
# that matters; the two UseDocument*Locking switches alone still leave the .~lock file.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentOOoLockFile" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentSystemFileLocking" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseLocking" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


# ---------------------------------------------------------------------------------------------
# discovery
# ---------------------------------------------------------------------------------------------
def find_soffice() -> str | None:
    """Path of the soffice executable: $COS_XL_SOFFICE, else ``soffice``/``libreoffice`` on PATH."""
    override = os.environ.get("COS_XL_SOFFICE")
    if override:
        found = shutil.which(override)
        return found if found else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _imports_uno(python: str) -> bool:
    try:
        proc = subprocess.run(
            [python, "-s", "-c", "import uno"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            env=_clean_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def find_uno_python() -> str | None:
    """A Python that can ``import uno``: $COS_XL_UNO_PYTHON, else the system/bundled Python."""
    override = os.environ.get("COS_XL_UNO_PYTHON")
    candidates = (override,) if override else UNO_PYTHON_CANDIDATES
    for python in candidates:
        if python and os.path.isfile(python) and os.access(python, os.X_OK):
            if _imports_uno(python):
                return python
    return None


@functools.lru_cache(maxsize=1)
def libreoffice_available() -> bool:
    """True when both soffice and a UNO-capable Python are found.

    Cached for the process (``libreoffice_available.cache_clear()`` after changing the
    COS_XL_* variables). It does not start soffice.
    """
    return find_soffice() is not None and find_uno_python() is not None


def _clean_env() -> dict[str, str]:
    """Environment for the system Python/soffice: nothing of the project's (pyenv/venv) Python."""
    env = dict(os.environ)
    for var in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV"):
        env.pop(var, None)
    return env


# ---------------------------------------------------------------------------------------------
# process handles (kept outside the object so a finalizer can clean up without it)
# ---------------------------------------------------------------------------------------------
class _Handles:
    def __init__(self) -> None:
        self.tmpdir: Path | None = None
        self.soffice: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.pipe_name: str | None = None
        self.profile_url: str | None = None


def _pipe_paths(h: _Handles) -> list[str]:
    """Socket files soffice creates in /tmp and removes only when it quits cleanly.

    One for ``--accept=pipe,name=...``, one for the single-instance IPC, named after the MD5 of
    the profile URL as UTF-16 (each byte in hex without zero padding, as LibreOffice does).
    """
    paths = []
    uid = os.getuid()
    if h.pipe_name:
        paths.append(f"/tmp/OSL_PIPE_{uid}_{h.pipe_name}")
    if h.profile_url:
        digest = hashlib.md5(h.profile_url.encode("utf-16-le")).digest()  # noqa: S324
        paths.append(f"/tmp/OSL_PIPE_{uid}_SingleOfficeIPC_" + "".join(f"{b:x}" for b in digest))
    return paths


def group_processes(pgid: int) -> list[tuple[int, str, str]] | None:
    """Live (non-zombie) processes of process group ``pgid`` as (pid, state, name).

    Linux only (reads /proc); None where /proc is not available. Zombies are left out: children
    that soffice spawns (gpgconf, gpg, ...) and orphans get reaped by init some time later.
    """
    if not os.path.isdir("/proc/self"):
        return None
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            found.append((int(entry), fields[0], name))
    return found


def _group_alive(pgid: int) -> bool:
    members = group_processes(pgid)
    if members is not None:
        return bool(members)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(proc: subprocess.Popen | None, grace: float) -> None:
    """End a process started with start_new_session=True together with its process group.

    Waits ``grace`` seconds for it to exit by itself, then SIGTERM, then SIGKILL to the whole
    group (soffice is a launcher, oosplash, with soffice.bin as its child), and finally waits a
    little until the group is empty (orphaned children are reaped by init, not by us).
    """
    if proc is None:
        return
    pgid = proc.pid  # own session: process-group id == pid
    if grace > 0:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is not None and not _group_alive(pgid):
        return  # exited cleanly: nothing to signal (and no chance of hitting a reused id)
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM and _group_alive(pgid):
            continue  # the leader is gone but a child is not: SIGKILL the rest
        break
    deadline = time.monotonic() + 5.0
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _cleanup(h: _Handles, grace: float = 0.0) -> None:
    worker, h.worker = h.worker, None
    soffice, h.soffice = h.soffice, None
    if worker is not None:
        for stream in (worker.stdin,):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        _kill_group(worker, grace)
    if soffice is not None:
        _kill_group(soffice, grace)
    for path in _pipe_paths(h):  # left behind when soffice had to be killed
        try:
            os.unlink(path)
        except OSError:
            pass
    h.pipe_name = h.profile_url = None
    if h.tmpdir is not None:
        shutil.rmtree(h.tmpdir, ignore_errors=True)
        h.tmpdir = None


# ---------------------------------------------------------------------------------------------
# the office
# ---------------------------------------------------------------------------------------------
_EOF = object()


class Formula(str):
    """A value for ``set_values`` that is typed as a formula (``Formula("=A1+1")``), as a
    person typing ``=`` into a cell does."""


class LibreOffice:
    """One headless soffice plus one UNO worker, for many :meth:`process` calls.

    Use as a context manager; :meth:`start` / :meth:`close` do the same by hand. If a request
    times out or the worker/soffice dies, that call raises :class:`OfficeError`, everything is
    torn down, and the next :meth:`process` call starts a fresh soffice.
    """

    def __init__(
        self,
        *,
        startup_timeout: float = 60.0,
        soffice: str | None = None,
        uno_python: str | None = None,
    ) -> None:
        self.soffice_path = soffice or find_soffice()
        self.uno_python = uno_python or find_uno_python()
        missing = []
        if not self.soffice_path:
            override = os.environ.get("COS_XL_SOFFICE")
            missing.append(
                f"COS_XL_SOFFICE={override!r} is not an executable"
                if override
                else "neither soffice nor libreoffice is on PATH"
            )
        if not self.uno_python:
            missing.append(
                "no Python with the 'uno' module (tried $COS_XL_UNO_PYTHON or "
                + ", ".join(UNO_PYTHON_CANDIDATES)
                + ")"
            )
        if missing:
            raise OfficeUnavailable(
                "LibreOffice в режиме headless недоступен (not usable): " + "; ".join(missing)
                + f". Установите: {INSTALL_HINT}"
            )
        self.startup_timeout = startup_timeout
        #: seconds the last soffice start took until the worker was connected
        self.startup_seconds: float | None = None
        self._h = _Handles()
        self._finalizer = weakref.finalize(self, _cleanup, self._h)
        self._lock = threading.RLock()
        self._lines: queue.Queue[Any] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=40)
        self._next_id = 0

    # -- public state --------------------------------------------------------------------------
    @property
    def soffice_pid(self) -> int | None:
        """Pid (and process-group id) of the running soffice launcher, None when not running."""
        return self._h.soffice.pid if self._h.soffice is not None else None

    @property
    def worker_pid(self) -> int | None:
        return self._h.worker.pid if self._h.worker is not None else None

    @property
    def running(self) -> bool:
        h = self._h
        return (
            h.soffice is not None
            and h.worker is not None
            and h.soffice.poll() is None
            and h.worker.poll() is None
        )

    # -- life cycle ----------------------------------------------------------------------------
    def __enter__(self) -> LibreOffice:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            _cleanup(self._h)
            try:
                self._start()
            except BaseException:
                _cleanup(self._h)
                raise

    def close(self) -> None:
        """Ask soffice to quit, then kill whatever is left and remove the profile."""
        with self._lock:
            h = self._h
            if h.worker is not None and h.worker.poll() is None and h.soffice is not None:
                try:
                    self._request({"op": "terminate"}, timeout=10, what="terminate")
                except OfficeError:
                    pass
                _cleanup(h, grace=5.0)  # soffice exits on its own after terminate()
            else:
                _cleanup(h)

    def _start(self) -> None:
        h = self._h
        h.tmpdir = Path(tempfile.mkdtemp(prefix="cos_xl_lo_"))
        profile = h.tmpdir / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        h.pipe_name = f"cos_xl_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        h.profile_url = profile.as_uri()
        log = open(h.tmpdir / "soffice.log", "wb")  # noqa: SIM115
        t0 = time.monotonic()
        try:
            h.soffice = subprocess.Popen(
                [
                    self.soffice_path,
                    f"-env:UserInstallation={h.profile_url}",
                    "--headless",
                    "--invisible",
                    "--nologo",
                    "--norestore",
                    "--nodefault",
                    "--nolockcheck",
                    f"--accept=pipe,name={h.pipe_name};urp;StarOffice.ComponentContext",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=_clean_env(),
                cwd=h.tmpdir,
            )
        except OSError as exc:
            raise OfficeError(f"cannot start {self.soffice_path}: {exc}") from exc
        finally:
            log.close()

        self._lines = queue.Queue()
        self._stderr = deque(maxlen=40)
        try:
            h.worker = subprocess.Popen(
                [
                    self.uno_python,
                    "-s",  # no user site-packages; PYTHON* variables are removed from env
                    "-u",
                    str(WORKER_SCRIPT),
                    "--connect",
                    f"pipe,name={h.pipe_name};urp",
                    "--startup-timeout",
                    str(self.startup_timeout),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env=_clean_env(),
                text=True,
                encoding="utf-8",
                errors="replace",
                cwd=h.tmpdir,
            )
        except OSError as exc:
            raise OfficeError(f"cannot start the UNO worker with {self.uno_python}: {exc}") from exc
        threading.Thread(
            target=_pump, args=(h.worker.stdout, self._lines.put, True), daemon=True
        ).start()
        threading.Thread(
            target=_pump, args=(h.worker.stderr, self._stderr.append, False), daemon=True
        ).start()

        deadline = t0 + self.startup_timeout + 5
        while True:
            if h.soffice.poll() is not None:  # oosplash lives as long as soffice.bin does
                raise OfficeError(
                    f"soffice exited with code {h.soffice.returncode} while starting"
                    + self._diagnostics()
                )
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise OfficeError(
                        f"LibreOffice did not come up within {self.startup_timeout:g} s"
                        + self._diagnostics()
                    ) from None
                continue
            if line is _EOF:
                raise OfficeError(
                    f"the UNO worker exited while starting (code {_exit_code(h.worker)})"
                    + self._diagnostics()
                )
            msg = _parse(line)
            if msg is None:
                self._stderr.append(f"[stdout] {line.rstrip()}")
                continue
            if msg.get("event") == "ready":
                self.startup_seconds = time.monotonic() - t0
                return
            raise OfficeError(
                f"LibreOffice did not come up within {self.startup_timeout:g} s:"
                f" {msg.get('error', msg)}" + self._diagnostics()
            )

    def _diagnostics(self) -> str:
        parts = []
        if self._stderr:
            parts.append("worker stderr:\n" + "\n".join(s.rstrip() for s in self._stderr))
        tmp = self._h.tmpdir
        if tmp is not None and (tmp / "soffice.log").exists():
            text = (tmp / "soffice.log").read_text(encoding="utf-8", errors="replace")
            # harmless noise of every start without Java
            text = "\n".join(ln for ln in text.splitlines() if "javaldx" not in ln).strip()
            if text:
                parts.append("soffice output:\n" + text[-2000:])
        return ("\n" + "\n".join(parts)) if parts else ""

    # -- requests ------------------------------------------------------------------------------
    def _request(self, req: dict[str, Any], *, timeout: float, what: str) -> dict[str, Any]:
        h = self._h
        self._next_id += 1
        rid = req["id"] = self._next_id
        try:
            assert h.worker is not None and h.worker.stdin is not None
            h.worker.stdin.write(json.dumps(req) + "\n")
            h.worker.stdin.flush()
        except (OSError, ValueError, AssertionError) as exc:
            code = h.worker.poll() if h.worker else None
            diag = self._diagnostics()
            _cleanup(h)
            raise OfficeError(
                f"{what}: the UNO worker is gone (exit code {code}): {exc}{diag}") from exc
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                diag = self._diagnostics()
                _cleanup(h)
                raise OfficeError(
                    f"{what}: LibreOffice did not answer within {timeout:g} s;"
                    f" soffice was killed{diag}"
                ) from None
            if line is _EOF:
                code = _exit_code(h.worker)
                diag = self._diagnostics()
                _cleanup(h)
                raise OfficeError(f"{what}: the UNO worker crashed (exit code {code}){diag}")
            msg = _parse(line)
            if msg is None or msg.get("id") != rid:
                self._stderr.append(f"[stdout] {line.rstrip()}")
                continue
            return msg

    def process(
        self,
        path: str | os.PathLike[str],
        *,
        set_values: Mapping[str, object] = {},  # noqa: B006 (read-only)
        read: Sequence[str] = (),
        save_as: str | os.PathLike[str] | None = None,
        recalc: bool = True,
        macros: bool = False,
        allow_locked: bool = False,
        timeout: float = 120,
    ) -> dict[str, object]:
        """Open ``path`` hidden, set values, recalculate, read values, optionally save, close.

        Keys (in ``set_values`` and ``read``) are workbook-level defined names or A1 references
        with a sheet, ``'Данные'!D5``. Values to set: int/float (number), str (text, never parsed
        as a formula or a number), None (clear the cell). Setting a locked cell of a protected
        sheet raises OfficeError unless ``allow_locked`` (LibreOffice's API itself would allow it).

        Returns ``{key: value}`` for ``read``: float, str ("" for a formula that returns ""),
        None for an empty cell, ``{"error": "#DIV/0!"}`` for an error, a list of rows for a range.
        """
        src = Path(path).expanduser().resolve()
        if isinstance(set_values, (str, bytes)) or not isinstance(set_values, Mapping):
            raise TypeError("set_values must be a mapping of name/reference -> value")
        if isinstance(read, (str, bytes)):
            raise TypeError("read must be a sequence of names/references, not a string")
        pairs: list[list[object]] = []
        for key, value in set_values.items():
            if isinstance(value, Formula):
                pairs.append([str(key), {"formula": str(value)}])
                continue
            if value is not None and not isinstance(value, (int, float, str)):
                raise TypeError(
                    f"{key}: cannot set a {type(value).__name__}; use int, float, str or None"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key}: cannot set a non-finite number {value!r}")
            pairs.append([str(key), value])
        req: dict[str, Any] = {
            "op": "process",
            "path": str(src),
            "set_values": pairs,
            "read": [str(k) for k in read],
            "recalc": bool(recalc),
            "macros": bool(macros),
            "allow_locked": bool(allow_locked),
            "save_as": None,
            "filter": None,
        }
        if not src.is_file():
            raise OfficeError(f"{src}: file does not exist")
        if save_as is not None:
            dst = Path(save_as).expanduser().resolve()
            filt = FILTERS.get(dst.suffix.lower())
            if filt is None:
                raise OfficeError(
                    f"{dst}: cannot choose a LibreOffice filter for {dst.suffix!r}"
                    f" (known: {', '.join(FILTERS)})"
                )
            if not dst.parent.is_dir():
                raise OfficeError(f"{dst}: the folder does not exist")
            req["save_as"], req["filter"] = str(dst), filt
        with self._lock:
            if not self.running:
                self.start()
            msg = self._request(req, timeout=timeout, what=str(src))
            if not msg.get("ok"):
                if not self.running:  # soffice died under the request
                    diag = self._diagnostics()
                    _cleanup(self._h)
                    raise OfficeError(f"{src}: LibreOffice died: {msg.get('error')}{diag}")
                raise OfficeError(f"{src}: {msg.get('error')}")
            return dict(msg.get("values") or {})


def _exit_code(proc: subprocess.Popen | None) -> int | None:
    if proc is None:
        return None
    try:
        return proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        return None


def _pump(stream: Any, put: Any, eof: bool) -> None:
    """Copy lines of a worker pipe to ``put``; with ``eof``, finish with the _EOF marker."""
    try:
        for line in stream:
            put(line)
    except (OSError, ValueError):
        pass
    finally:
        if eof:
            put(_EOF)


def _parse(line: Any) -> dict[str, Any] | None:
    try:
        msg = json.loads(line)
    except (TypeError, ValueError):
        return None
    return msg if isinstance(msg, dict) else None


def recalculate(path: str | os.PathLike[str], **kwargs: Any) -> dict[str, object]:
    """Start LibreOffice, run one :meth:`LibreOffice.process` call on ``path``, stop it."""
    startup_timeout = kwargs.pop("startup_timeout", 60.0)
    with LibreOffice(startup_timeout=startup_timeout) as lo:
        return lo.process(path, **kwargs)
