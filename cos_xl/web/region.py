"""A region's pages, reached by its secret link ``/r/<secret>``, and the API for scripts
(``POST /api/v1/submissions`` with ``Authorization: Bearer <secret>``). The link allows one
region and one period: the region sees only its own submissions, and a file of another region
or period is refused and not stored."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from cos_xl.ledger.access import Grant
from cos_xl.periods import Period
from cos_xl.regions import get_region
from cos_xl.validate.report import finding_json
from cos_xl.web.app import Web, web_of
from cos_xl.web.changes import baseline, what_changed
from cos_xl.web.security import CSRF_FIELD, browser_token, same_origin, token_matches
from cos_xl.web.uploads import UploadError, UploadTooLarge, receive_upload
from cos_xl.web.worker import Busy, JobFailed, JobTimeout, WorkerDied

log = logging.getLogger("cos_xl.web")

XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, filename: str, media_type: str | None = None) -> Response:
    """An attachment (never shown inline: a region's file may be anything)."""
    if media_type is None:
        media_type = XLSM if filename.endswith(".xlsm") else (
            XLSX if filename.endswith(".xlsx") else "application/octet-stream")
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return Response(data, media_type=media_type, headers={
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(filename)}"})


# --- what the pages show ----------------------------------------------------------------------

def region_view(web: Web, grant: Grant) -> dict:
    period = Period.parse(grant.period)
    rows = web.ledger.status(period, web.explicit)
    row = next((r for r in rows if r.region_code == grant.region_code), None)
    history = web.ledger.submissions(period, grant.region_code)
    return {"region": get_region(grant.region_code), "period": period,
            "deadline": web.campaign(period).deadline(period), "row": row,
            "history": list(reversed(history))}


def version_view(web: Web, period: str, region: str, version: int) -> dict | None:
    history = web.ledger.submissions(period, region)
    sub = next((s for s in history if s.version == version), None)
    if sub is None:
        return None
    base = baseline(history, version)
    return {"sub": sub, "findings": [finding_json(f) for f in sub.findings],
            "base_ver": base.version if base is not None else None,
            "changes": what_changed(base, sub) if base is not None else [],
            "region": get_region(region), "period": Period.parse(period),
            "latest": history[-1].version}


# --- running a job ----------------------------------------------------------------------------

class Refusal(Exception):
    """A job could not give an answer about the file: the status and Russian message."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


async def run_job(web: Web, job: tuple) -> object:
    try:
        return await web.pool.run(job)
    except Busy as exc:
        raise Refusal(503, "Сервер сейчас занят проверкой других файлов: повторите через "
                           "минуту.", retry_after=30) from exc
    except JobTimeout as exc:
        raise Refusal(200, f"Обработка не уложилась в {web.settings.timeout:g} с и прервана: "
                           "файл не принят и не сохранён. Проверьте, что это заполненный "
                           "шаблон, и пришлите его снова.") from exc
    except WorkerDied as exc:
        raise Refusal(200, "Обработка файла прервана (файл слишком велик или повреждён): "
                           "файл не принят и не сохранён.") from exc
    except JobFailed as exc:
        raise Refusal(503, f"Не удалось обработать запрос: {exc}", retry_after=30) from exc


async def take_upload(web: Web, request: Request, grant: Grant, upload) -> dict:
    """Validate and record an upload for the link's region and period (in a worker)."""
    try:
        return await run_job(web, ("intake", str(upload.path), upload.filename,
                                   grant.region_code, grant.period))
    finally:
        upload.discard()


# --- the region's pages -----------------------------------------------------------------------

async def _grant(request: Request) -> Grant | None:
    web = web_of(request)
    return await web.db(web.ledger.access.grant, request.path_params["token"])


def _invalid_link(request: Request) -> Response:
    return web_of(request).message(
        request, "Ссылка недействительна",
        "Эта ссылка для отправки отчёта неверна или отозвана. Обратитесь к федеральному "
        "оператору за новой ссылкой.", 404)


def _base(request: Request) -> str:
    return f"/r/{request.path_params['token']}"


async def region_page(request: Request, *, result: dict | None = None, error: str | None = None,
                      status: int = 200, headers: dict | None = None) -> Response:
    web = web_of(request)
    grant = await _grant(request)
    if grant is None:
        return _invalid_link(request)
    view = await web.db(region_view, web, grant)
    return web.render(request, "region.html", {
        **view, "base": _base(request), "result": result, "error": error,
        "limit": web.settings.upload_limit}, status=status, headers=headers)


async def region_upload(request: Request) -> Response:
    web = web_of(request)
    grant = await _grant(request)
    if grant is None:
        return _invalid_link(request)
    try:
        upload = await receive_upload(request, web.spool, limit=web.settings.upload_limit)
    except UploadTooLarge as exc:
        mb = web.settings.upload_limit / (1 << 20)
        return await region_page(
            request, status=413, error=f"Файл больше {mb:g} МБ: он не принят. Книга отчёта "
            "весит меньше 1 МБ — проверьте, тот ли файл выбран.",
            headers=None if exc.drained else {"connection": "close"})
    except UploadError as exc:
        return await region_page(request, status=400, error=f"Файл не получен: {exc}.")
    expected, unknown = browser_token(request)
    if unknown or not same_origin(request) or not token_matches(
            expected, upload.fields.get(CSRF_FIELD)):
        upload.discard()
        return web.message(request, "Форма устарела",
                           "Форма отправлена не со страницы отчёта или устарела: откройте "
                           "страницу по ссылке ещё раз и отправьте файл снова.", 403)
    try:
        outcome = await take_upload(web, request, grant, upload)
    except Refusal as exc:
        return await region_page(request, status=exc.status, error=exc.message)
    if outcome["status"] in ("new", "duplicate") and outcome["version"] is not None:
        return RedirectResponse(f"{_base(request)}/v/{outcome['version']}?received="
                                f"{outcome['status']}", status_code=303)
    return await region_page(request, result=outcome,
                             status=403 if outcome["status"] == "refused" else 200)


async def version_page(request: Request) -> Response:
    web = web_of(request)
    grant = await _grant(request)
    if grant is None:
        return _invalid_link(request)
    view = await web.db(version_view, web, grant.period, grant.region_code,
                        request.path_params["version"])
    if view is None:
        return web.message(request, "Нет такой версии", "Такой версии отчёта нет.", 404)
    return web.render(request, "version.html", {
        **view, "base": _base(request), "received": request.query_params.get("received"),
        "federal": False})


async def _annotated(request: Request, period: str, region: str, version: int) -> Response:
    web = web_of(request)
    try:
        made = await run_job(web, ("annotated", period, region, version))
    except Refusal as exc:
        return web.message(request, "Копия с замечаниями не готова", exc.message,
                           exc.status if exc.status != 200 else 422)
    if made is None:
        return web.message(request, "Копии с замечаниями нет",
                           "Файл не открывается как книга Excel, поэтому отметить ячейки "
                           "нельзя: замечания показаны на странице версии.", 404)
    name, data = made
    return download(data, name)


async def _original(request: Request, period: str, region: str, version: int) -> Response:
    web = web_of(request)
    view = await web.db(version_view, web, period, region, version)
    if view is None:
        return web.message(request, "Нет такой версии", "Такой версии отчёта нет.", 404)
    sub = view["sub"]
    data = await web.db(web.ledger.blob, sub.sha256)
    suffix = ".xlsx" if sub.filename.lower().endswith(".xlsx") else ".xlsm"
    return download(data, f"cos_{period}_{region}_v{version}{suffix}")


def _version_download(make: Callable[[Request, str, str, int], Awaitable[Response]]
                      ) -> Callable[[Request], Awaitable[Response]]:
    """A file of one of the region's versions (the annotated copy, the original) by its link."""

    async def download_file(request: Request) -> Response:
        grant = await _grant(request)
        if grant is None:
            return _invalid_link(request)
        return await make(request, grant.period, grant.region_code,
                          request.path_params["version"])
    return download_file


async def template_download(request: Request) -> Response:
    web = web_of(request)
    grant = await _grant(request)
    if grant is None:
        return _invalid_link(request)
    try:
        name, data = await run_job(web, ("template", grant.period, grant.region_code))
    except Refusal as exc:
        return web.message(request, "Шаблон не выдан", exc.message,
                           exc.status if exc.status != 200 else 503)
    return download(data, name)


# --- the API ----------------------------------------------------------------------------------

def _api_error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def api_submit(request: Request) -> Response:
    """``POST /api/v1/submissions``: one file in the multipart field ``file``."""
    web = web_of(request)
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    grant = (await web.db(web.ledger.access.grant, secret.strip())
             if scheme.lower() == "bearer" else None)
    if grant is None:
        return _api_error(401, "Нужен действующий ключ субъекта: Authorization: Bearer "
                               "<ключ из ссылки>", {"www-authenticate": 'Bearer realm="cos-xl"',
                                                    "connection": "close"})
    try:
        upload = await receive_upload(request, web.spool, limit=web.settings.upload_limit)
    except UploadTooLarge as exc:
        return _api_error(413, f"Файл больше {web.settings.upload_limit} байт: не принят",
                          None if exc.drained else {"connection": "close"})
    except UploadError as exc:
        return _api_error(400, f"Файл не получен: {exc}")
    try:
        outcome = await take_upload(web, request, grant, upload)
    except Refusal as exc:
        if exc.status == 200:  # the file itself could not be judged in time: a verdict
            outcome = {"status": "error", "verdict": "FAIL", "message": exc.message,
                       "region_code": None, "period": None, "version": None,
                       "findings": []}
        else:
            headers = {"retry-after": str(exc.retry_after)} if exc.retry_after else None
            return _api_error(exc.status, exc.message, headers)
    body = {key: outcome.get(key) for key in (
        "region_code", "period", "version", "verdict", "status", "message", "sha256",
        "findings")}
    return JSONResponse(body, status_code=403 if outcome["status"] == "refused" else 200)


routes = [
    Route("/r/{token}", region_page),
    Route("/r/{token}/upload", region_upload, methods=["POST"]),
    Route("/r/{token}/template", template_download),
    Route("/r/{token}/v/{version:int}", version_page),
    Route("/r/{token}/v/{version:int}/annotated", _version_download(_annotated)),
    Route("/r/{token}/v/{version:int}/original", _version_download(_original)),
    Route("/api/v1/submissions", api_submit, methods=["POST"]),
]
