"""Worker processes: everything that opens a region's file (validation and intake, the annotated
copy) or builds a workbook (a template, the national report) runs in one of them, never in the
server's own process.

Each worker is a process of its own with one job at a time, and each job has a time limit: a
worker that does not answer in time is killed (SIGKILL) and replaced, and the request gets a
clean message. A worker that dies (a memory limit, a crash) is replaced the same way. The
server's event loop only waits on a thread per busy worker, so a zip bomb or a hang never blocks
it. Workers are forked from a small "forkserver" process that has the library imported, so a
replacement starts in milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread

from cos_xl.errors import CosXlError
from cos_xl.signing import SigningKey

log = logging.getLogger("cos_xl.web")


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs: the ledger, the key, the campaign settings given to the server."""

    db: str
    key: SigningKey
    allow_dev_key: bool
    campaign_file: Path | None = None
    memory_limit: int | None = 2 << 30  # bytes of address space per worker; None: no limit


class WorkerError(CosXlError):
    """A job did not complete: see the subclasses."""


class JobTimeout(WorkerError):
    """The job ran past its time limit; the worker was killed and replaced."""


class WorkerDied(WorkerError):
    """The worker process ended during the job (killed, out of memory); it was replaced."""


class JobFailed(WorkerError):
    """The job raised: the message is the library's (Russian) message."""


class Busy(WorkerError):
    """Too many jobs are waiting: try again later."""


def _main(conn, config: WorkerConfig) -> None:
    """The worker's loop: receive a job, send ("ok", result) or ("error", message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops workers itself
    if config.memory_limit:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (config.memory_limit, config.memory_limit))
    from cos_xl.web import jobs
    state = jobs.WorkerState(config)
    state.warm()
    conn.send(("ready", os.getpid()))
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            try:
                reply = ("ok", jobs.run(state, job))
            except CosXlError as exc:
                reply = ("error", str(exc))
            except MemoryError:
                reply = ("error", "Не хватило памяти для обработки файла")
            except Exception as exc:  # noqa: BLE001 - reported to the server, never a crash
                log.exception("worker job %s failed", job[0])
                reply = ("error", f"Внутренняя ошибка обработки ({type(exc).__name__})")
            try:
                conn.send(reply)
            except (OSError, ValueError):
                return
    finally:
        state.close()


class _Worker:
    def __init__(self, context, config: WorkerConfig) -> None:
        parent, child = context.Pipe()
        self.process = context.Process(target=_main, args=(child, config), daemon=True,
                                       name="cos-xl-worker")
        self.process.start()
        child.close()
        self.conn = parent
        self.ready = False

    def wait_ready(self, timeout: float) -> None:
        """Wait for the worker's "ready" (its ledger open, the newest period warmed up)."""
        if self.ready:
            return
        try:
            if not self.conn.poll(timeout):
                raise JobTimeout(f"worker not ready in {timeout:g} s")
            self.conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerDied(f"worker {self.process.pid} ended while starting: {exc}") from exc
        self.ready = True

    def call(self, job: tuple, timeout: float) -> tuple[str, object]:
        """Send a job and wait for its reply (in a thread of the server)."""
        self.wait_ready(max(timeout, 60.0))
        try:
            self.conn.send(job)
            if not self.conn.poll(timeout):
                raise JobTimeout(f"job {job[0]} over {timeout:g} s")
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerDied(f"worker {self.process.pid} ended: {exc}") from exc

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        self.conn.close()  # the worker sees EOF and returns
        self.process.join(2)
        if self.process.is_alive():
            self.kill()


class WorkerPool:
    """``size`` worker processes; ``run`` gives a job to the next free one."""

    def __init__(self, config: WorkerConfig, *, size: int, timeout: float,
                 max_waiting: int = 500) -> None:
        self.config = config
        self.size = max(1, size)
        self.timeout = timeout
        self.max_waiting = max_waiting
        self._context = mp.get_context("forkserver")
        self._context.set_forkserver_preload(["cos_xl.web.jobs"])
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []
        self._waiting = 0
        self._limiter = anyio.CapacityLimiter(self.size)
        self._closing = False
        self.replaced = 0  # workers killed or found dead and replaced

    def start(self) -> None:
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            worker = _Worker(self._context, self.config)
            self._workers.append(worker)
            self._idle.put_nowait(worker)
        for worker in self._workers:
            worker.wait_ready(120.0)

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    async def run(self, job: tuple, timeout: float | None = None) -> object:
        """The job's result; JobTimeout, WorkerDied, JobFailed or Busy otherwise."""
        assert self._idle is not None, "start() the pool first"
        if self._waiting >= self.max_waiting:
            raise Busy(f"{self._waiting} jobs waiting")
        self._waiting += 1
        try:
            worker = await self._idle.get()
        finally:
            self._waiting -= 1
        try:
            status, value = await anyio.to_thread.run_sync(
                worker.call, job, timeout or self.timeout, limiter=self._limiter)
        except (JobTimeout, WorkerDied) as exc:
            if not self._closing:
                log.warning("worker %s replaced: %s", worker.process.pid, exc)
                worker = self._replace(worker)
            raise
        finally:
            self._idle.put_nowait(worker)
        if status != "ok":
            raise JobFailed(str(value))
        return value

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = _Worker(self._context, self.config)
        self._workers[self._workers.index(worker)] = fresh
        self.replaced += 1
        return fresh

    def close(self) -> None:
        self._closing = True
        for worker in self._workers:
            worker.stop()
        self._workers.clear()


def default_workers() -> int:
    """One worker per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
