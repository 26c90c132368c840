"""The web application: settings, what the routes share, rendering, and the app itself.

    app = create_app(ServeSettings(db="ledger.sqlite", key=resolve_key(dev_key=True)))

Routes live in :mod:`cos_xl.web.region` (a region's link, the API) and
:mod:`cos_xl.web.federal` (the federal team's pages); every one of them calls the library — the
ledger for what is stored, a worker process (:mod:`cos_xl.web.jobs`) for anything that opens a
file or builds a workbook.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cos_xl import __version__
from cos_xl.campaign import Campaign, load_campaign
from cos_xl.ledger import open_ledger
from cos_xl.ledger.access import Session
from cos_xl.periods import Period
from cos_xl.signing import SigningKey
from cos_xl.web import format as fmt
from cos_xl.web.security import SecurityHeaders, browser_token, set_cookie
from cos_xl.web.worker import WorkerConfig, WorkerPool, default_workers

log = logging.getLogger("cos_xl.web")
HERE = Path(__file__).resolve().parent
MiB = 1 << 20


@dataclass(frozen=True)
class ServeSettings:
    """Everything ``cos-xl serve`` is given."""

    db: str
    key: SigningKey
    allow_dev_key: bool = False
    campaign_file: Path | None = None
    upload_limit: int = 20 * MiB
    timeout: float = 60.0  # seconds a worker may spend on one job
    workers: int = field(default_factory=default_workers)
    spool_dir: Path | None = None  # where uploads wait for their worker (default: temp folder)
    memory_limit: int | None = 2 << 30  # per worker process


class Web:
    """What every route uses: the settings, the ledger, the worker pool, the templates."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.explicit = (load_campaign(settings.campaign_file)
                         if settings.campaign_file is not None else None)
        self.ledger = None
        self.pool: WorkerPool | None = None
        self.spool: Path | None = None
        self.national_cache: dict[str, tuple[object, object]] = {}
        env = Environment(loader=FileSystemLoader(HERE / "templates"),
                          autoescape=select_autoescape(default=True), trim_blocks=True,
                          lstrip_blocks=True)
        env.filters.update(fmt.FILTERS)
        env.globals["version"] = __version__
        self.env = env

    # --- lifetime --------------------------------------------------------------------------

    def start(self) -> None:
        s = self.settings
        self.ledger = open_ledger(s.db)
        self.spool = _spool_folder(s.spool_dir)
        self.pool = WorkerPool(
            WorkerConfig(db=s.db, key=s.key, allow_dev_key=s.allow_dev_key,
                         campaign_file=s.campaign_file, memory_limit=s.memory_limit),
            size=s.workers, timeout=s.timeout)
        self.pool.start()

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.close()
        if self.ledger is not None:
            self.ledger.close()
        if self.spool is not None:
            shutil.rmtree(self.spool, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------

    async def db(self, function, *args, **kwargs):
        """Run a (blocking) ledger call in a thread."""
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))

    def campaign(self, period: Period) -> Campaign:
        """The campaign settings of a period: --config, else recorded, else the defaults."""
        if self.explicit is not None:
            return self.explicit
        registered = self.ledger.campaign(period)
        return registered.campaign if registered is not None else Campaign()

    def render(self, request: Request, name: str, context: dict | None = None,
               status: int = 200, headers: dict | None = None) -> HTMLResponse:
        """A page; forms on it carry the session's CSRF token, or this browser's."""
        session: Session | None = getattr(request.state, "session", None)
        new_token = None
        if session is not None:
            csrf = session.csrf
        else:
            csrf, is_new = browser_token(request)
            new_token = csrf if is_new else None
        html = self.env.get_template(name).render(
            request=request, csrf=csrf, user=session.user if session else None,
            dev_key=self.settings.key.dev, **(context or {}))
        response = HTMLResponse(html, status_code=status, headers=headers)
        if new_token is not None:
            set_cookie(response, request, "cos_xl_csrf", new_token, max_age=None,
                       samesite="strict")
        return response

    def message(self, request: Request, title: str, text: str, status: int,
                headers: dict | None = None) -> HTMLResponse:
        return self.render(request, "message.html", {"title": title, "text": text},
                           status=status, headers=headers)


def web_of(request: Request) -> Web:
    return request.app.state.web


def _spool_folder(base: Path | None) -> Path:
    """A folder of this server process for uploads waiting for a worker; those left by a
    server that was killed (its process gone) are removed."""
    base = Path(base or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    for old in base.glob("cos-xl-spool-*"):
        try:
            pid = int((old / "pid").read_text())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix="cos-xl-spool-", dir=base))
    (folder / "pid").write_text(str(os.getpid()))
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def home(request: Request) -> Response:
    web = web_of(request)
    from cos_xl.web.federal import current_session
    request.state.session = await current_session(request)
    return web.render(request, "home.html")


async def not_found(request: Request, exc) -> Response:
    return web_of(request).message(request, "Страница не найдена",
                                   "Такой страницы нет. Проверьте адрес.", 404)


async def server_error(request: Request, exc) -> Response:
    log.error("unexpected error on %s %s: %s", request.method,
              request.url.path.split("/")[1:2], type(exc).__name__)
    return web_of(request).message(
        request, "Ошибка сервера", "Запрос не выполнен из-за ошибки сервера. Повторите позже; "
        "если ошибка повторяется, сообщите федеральному оператору.", 500)


def create_app(settings: ServeSettings) -> Starlette:
    """The ASGI application; workers start with it and stop with it."""
    from cos_xl.web import federal, region

    web = Web(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await anyio.to_thread.run_sync(web.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(web.stop)

    routes = [
        Route("/healthz", healthz),
        Route("/", home),
        *region.routes,
        *federal.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: not_found, 500: server_error})
    app.state.web = web
    app.add_middleware(SecurityHeaders)
    return app
