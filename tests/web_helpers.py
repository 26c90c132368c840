"""The web intake as a real process: ``cos-xl serve`` started with uvicorn on a free loopback
port, stopped or killed (SIGKILL) by the tests; the returns of a round for it to receive."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cos_xl.ledger import open_ledger
from cos_xl.signing import resolve_key

DEV_KEY = resolve_key(None, dev_key=True, env={})
PASSWORD = "correct horse battery"
PERIOD = "2020Q3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``cos-xl serve`` in a process of its own (and its own process group)."""

    def __init__(self, db: str, folder: Path, *args: str) -> None:
        self.db = db
        self.folder = Path(folder)
        self.args = args
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.log = self.folder / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> LiveServer:
        self.port = free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "COLUMNS": "200"}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cos_xl.cli", "serve", "--db", self.db, "--dev-key",
                 "--port", str(self.port), "--spool-dir", str(self.folder / "spool"),
                 *self.args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; the whole group if it does not end."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._reap_group()
        self.process = None

    def kill9(self) -> None:
        """``kill -9`` of the server process itself (its workers see the pipe close)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._reap_group()
        self.process = None

    def _reap_group(self) -> None:
        # what is left of the group this test started (workers, the forkserver), if anything
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def workers(self) -> list[int]:
        """Process ids of the worker processes: the server's grandchildren (workers are forked
        by its forkserver process)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        children = {pid for pid, ppid in parents.items() if ppid == self.process.pid}
        return sorted(pid for pid, ppid in parents.items() if ppid in children)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def prepare_ledger(db: str, regions: list[str], period: str = PERIOD) -> dict[str, str]:
    """A ledger with the period's campaign, a federal user «analyst» and an upload link per
    region: region → secret."""
    from cos_xl.campaign import Campaign
    with open_ledger(db, create=True) as ledger:
        ledger.register_campaign(period, Campaign(), regions, DEV_KEY)
        if not ledger.access.users():
            ledger.access.add_user("analyst", PASSWORD)
        return ledger.access.issue_links(period, regions)


def build_returns(folder: Path, regions: list[str] | None = None, period: str = PERIOD,
                  changes: dict | None = None) -> dict[str, Path]:
    """Templates of the period (development key) filled with the demo's synthetic figures,
    as a region's office program would have saved them: region → file."""
    from cos_xl.fill import fill_workbook
    from cos_xl.demo.sample import sample_inputs
    from cos_xl.generate import generate

    folder = Path(folder)
    result = generate(period, folder / "templates", DEV_KEY, regions=regions)
    figures = sample_inputs(period)
    out = {}
    for path in result.paths:
        code = path.stem.rsplit("_", 1)[1]
        target = folder / "returns" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fill_workbook(path.read_bytes(), {**figures[code],
                                                             **(changes or {})}))
        out[code] = target
    return out


def upload(client: httpx.Client, url: str, secret: str, path: Path,
           name: str | None = None) -> httpx.Response:
    with open(path, "rb") as handle:
        return client.post(f"{url}/api/v1/submissions",
                           headers={"Authorization": f"Bearer {secret}"},
                           files={"file": (name or path.name, handle,
                                           "application/octet-stream")})
