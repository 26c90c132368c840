"""The federal team's pages (login with an account from ``cos-xl users add``): the periods, the
status of every region with the national figures, each region's versions and findings, the
national exports, and the regions' upload links (issued as a CSV, revoked)."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, quote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cos_xl.errors import CosXlError
from cos_xl.ledger.access import SESSION_LIFETIME, Session
from cos_xl.ledger.status import summary
from cos_xl.periods import Period, PeriodError
from cos_xl.regions import get_region, regions_for_period
from cos_xl.web.app import Web, web_of
from cos_xl.web.region import Refusal, download, run_job, version_view
from cos_xl.web.security import (
    CSRF_FIELD,
    browser_token,
    cookie_name,
    is_https,
    same_origin,
    set_cookie,
    token_matches,
)

SESSION_COOKIE = "cos_xl_session"
_FORM_LIMIT = 16 * 1024
EXPORTS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "json": "application/json", "csv": "text/csv; charset=utf-8"}


class FormError(Exception):
    pass


async def small_form(request: Request) -> dict[str, str]:
    """A URL-encoded form of at most 16 KiB (the federal forms are a few fields)."""
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > _FORM_LIMIT:
                raise FormError("form too large")
    except ClientDisconnect as exc:
        raise FormError("client went away") from exc
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("bad form") from exc
    return {key: values[0] for key, values in parsed.items()}


async def current_session(request: Request) -> Session | None:
    secret = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if not secret:
        return None
    web = web_of(request)
    return await web.db(web.ledger.access.session, secret)


async def _require(request: Request) -> Session | Response:
    """The session, or the redirect to the login page."""
    session = await current_session(request)
    if session is None:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    request.state.session = session
    return session


def signed_in(handler: Callable[[Request], Awaitable[Response]]
              ) -> Callable[[Request], Awaitable[Response]]:
    """A federal page: without a session, the redirect to the login page (the session is then
    in ``request.state.session``)."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        session = await _require(request)
        if isinstance(session, Response):
            return session
        return await handler(request)
    return guarded


async def _checked_form(request: Request) -> dict[str, str] | Response:
    """The form of a logged-in user, checked against the session's CSRF token."""
    web = web_of(request)
    try:
        form = await small_form(request)
    except FormError:
        return web.message(request, "Форма не принята", "Форма слишком велика или повреждена.",
                           400)
    if not same_origin(request) or not token_matches(request.state.session.csrf,
                                                     form.get(CSRF_FIELD)):
        return web.message(request, "Форма устарела", "Откройте страницу ещё раз и повторите.",
                           403)
    return form


def _period(request: Request) -> Period | None:
    try:
        return Period.parse(request.path_params["period"])
    except PeriodError:
        return None


# --- login ------------------------------------------------------------------------------------

def _next(value: str | None) -> str:
    """Only a path of the federal pages: never another site."""
    if value and value.startswith("/federal") and "//" not in value and "\\" not in value:
        return value
    return "/federal"


async def login_page(request: Request) -> Response:
    return web_of(request).render(request, "login.html", {
        "next": _next(request.query_params.get("next"))})


async def login(request: Request) -> Response:
    web = web_of(request)
    try:
        form = await small_form(request)
    except FormError:
        return web.message(request, "Форма не принята", "Форма слишком велика.", 400)
    expected, unknown = browser_token(request)
    if unknown or not same_origin(request) or not token_matches(expected, form.get(CSRF_FIELD)):
        return web.message(request, "Форма устарела",
                           "Откройте страницу входа ещё раз и повторите.", 403)
    user = await web.db(web.ledger.access.check_password, form.get("name", "")[:64],
                        form.get("password", "")[:1024])
    if user is None:
        return web.render(request, "login.html", {
            "next": _next(form.get("next")), "name": form.get("name", "")[:64],
            "error": "Неверное имя или пароль (после пяти неудачных попыток вход "
                     "закрывается на 15 минут)."})
    secret, _session = await web.db(web.ledger.access.open_session, user)
    response = RedirectResponse(_next(form.get("next")), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, secret,
               max_age=int(SESSION_LIFETIME.total_seconds()))
    return response


@signed_in
async def logout(request: Request) -> Response:
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    web = web_of(request)
    await web.db(web.ledger.access.close_session,
                 request.cookies.get(cookie_name(request, SESSION_COOKIE), ""))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(cookie_name(request, SESSION_COOKIE), path="/", secure=is_https(request),
                           httponly=True, samesite="lax")
    return response


# --- pages ------------------------------------------------------------------------------------

@signed_in
async def periods_page(request: Request) -> Response:
    web = web_of(request)
    if "period" in request.query_params:  # the form "open a period"
        try:
            return RedirectResponse(f"/federal/{Period.parse(request.query_params['period'])}",
                                    status_code=303)
        except PeriodError as exc:
            return web.render(request, "periods.html", {
                "periods": await web.db(web.ledger.periods), "error": str(exc)}, status=400)
    return web.render(request, "periods.html", {"periods": await web.db(web.ledger.periods)})


def period_view(web: Web, period: Period) -> dict:
    rows = web.ledger.status(period, web.explicit)
    links = {link.region_code for link in web.ledger.access.links(period)
             if link.revoked_at is None}
    registered = web.ledger.campaign(period)
    return {"rows": rows, "summary": summary(rows), "links": links,
            "registered": registered, "deadline": web.campaign(period).deadline(period),
            "unattributed": web.ledger.unattributed_count(),
            "state": tuple(web.ledger.overview(period))}


async def national_view(web: Web, period: Period, state: tuple) -> object:
    """The national figures, computed again only when the period's submissions changed."""
    cached = web.national_cache.get(str(period))
    if cached is not None and cached[0] == state:
        return cached[1]
    view = await run_job(web, ("national", str(period), "view"))
    web.national_cache[str(period)] = (state, view)
    return view


@signed_in
async def period_page(request: Request) -> Response:
    web = web_of(request)
    period = _period(request)
    if period is None:
        return web.message(request, "Нет такого периода", "Период указан неверно.", 404)
    view = await web.db(period_view, web, period)
    national, national_error = None, None
    try:
        national = await national_view(web, period, view["state"])
    except Refusal as exc:
        national_error = exc.message
    chosen = request.query_params.get("indicator")
    by_region = []
    if national is not None:
        codes = [i["code"] for i in national["indicators"]]
        chosen = chosen if chosen in codes else codes[0]
        names = {r.code: r.full_name for r in regions_for_period(period.year, period.quarter)}
        by_region = sorted(
            ((names.get(code, code), code, (figures.get(chosen) or {}).get("value"))
             for code, figures in national["regions"].items()),
            key=lambda item: (item[2] is None, -(item[2] or 0), item[1]))
    return web.render(request, "period.html", {
        **view, "period": period, "national": national, "national_error": national_error,
        "chosen": chosen, "by_region": by_region})


@signed_in
async def region_page(request: Request) -> Response:
    web = web_of(request)
    period = _period(request)
    try:
        region = get_region(request.path_params["code"])
    except CosXlError:
        region = None
    if period is None or region is None:
        return web.message(request, "Нет такой страницы", "Период или субъект указан неверно.",
                           404)

    def view() -> dict:
        history = web.ledger.submissions(period, region.code)
        links = [link for link in web.ledger.access.links(period)
                 if link.region_code == region.code]
        return {"history": list(reversed(history)), "links": links,
                "active": any(link.revoked_at is None for link in links)}

    return web.render(request, "federal_region.html", {
        **await web.db(view), "period": period, "region": region,
        "base": f"/federal/{period}/regions/{region.code}"})


@signed_in
async def version_page(request: Request) -> Response:
    web = web_of(request)
    period = _period(request)
    code = request.path_params["code"]
    view = (await web.db(version_view, web, str(period), code, request.path_params["version"])
            if period is not None and code.isdigit() else None)
    if view is None:
        return web.message(request, "Нет такой версии", "Такой версии отчёта нет.", 404)
    return web.render(request, "version.html", {
        **view, "base": f"/federal/{period}/regions/{code}", "received": None,
        "federal": True})


@signed_in
async def version_file(request: Request) -> Response:
    from cos_xl.web.region import _annotated, _original

    period = _period(request)
    code = request.path_params["code"]
    if period is None or not code.isdigit():
        return web_of(request).message(request, "Нет такой версии", "Нет такой версии.", 404)
    which = {"annotated": _annotated, "original": _original}.get(request.path_params["what"])
    if which is None:
        return web_of(request).message(request, "Нет такой страницы", "Нет такой страницы.", 404)
    return await which(request, str(period), code, request.path_params["version"])


@signed_in
async def national_export(request: Request) -> Response:
    web = web_of(request)
    period = _period(request)
    fmt = request.path_params["fmt"]
    if period is None or fmt not in EXPORTS:
        return web.message(request, "Нет такой выгрузки", "Нет такой выгрузки.", 404)
    try:
        data = await run_job(web, ("national", str(period), fmt))
    except Refusal as exc:
        return web.message(request, "Сводка не готова", exc.message, 503)
    return download(data, f"national_{period}.{fmt}", EXPORTS[fmt])


# --- upload links -----------------------------------------------------------------------------

def links_csv(request: Request, issued: dict[str, str]) -> bytes:
    """``region_code,token,url`` — the one place the secrets are ever shown."""
    base = str(request.base_url).rstrip("/")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["region_code", "token", "url"])
    for region, secret in sorted(issued.items()):
        writer.writerow([region, secret, f"{base}/r/{secret}"])
    return out.getvalue().encode("utf-8")


@signed_in
async def issue_links(request: Request) -> Response:
    """Links for every region of the period without one in force, or (``region`` given) a new
    link for that region in place of its old one; the CSV is the answer."""
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    web = web_of(request)
    period = _period(request)
    if period is None:
        return web.message(request, "Нет такого периода", "Период указан неверно.", 404)
    access = web.ledger.access
    one = form.get("region")

    def issue() -> dict[str, str]:
        if one:
            get_region(one)
            return access.issue_links(period, [one], replace=True)
        registered = web.ledger.campaign(period)
        wanted = (registered.regions if registered is not None else
                  [r.code for r in regions_for_period(period.year, period.quarter)])
        active = {link.region_code for link in access.links(period) if link.revoked_at is None}
        return access.issue_links(period, [r for r in wanted if r not in active])

    try:
        issued = await web.db(issue)
    except CosXlError as exc:
        return web.message(request, "Ссылки не выданы", str(exc), 409)
    if not issued:
        return web.message(request, "Новых ссылок нет",
                           "У всех субъектов периода уже есть действующие ссылки.", 200)
    name = f"links_{period}_{one}.csv" if one else f"links_{period}.csv"
    return download(links_csv(request, issued), name, "text/csv; charset=utf-8")


@signed_in
async def revoke_link(request: Request) -> Response:
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    web = web_of(request)
    period = _period(request)
    code = request.path_params["code"]
    if period is None or not code.isdigit():
        return web.message(request, "Нет такой страницы", "Нет такой страницы.", 404)
    await web.db(web.ledger.access.revoke_links, period, [code])
    return RedirectResponse(f"/federal/{period}/regions/{code}", status_code=303)


routes = [
    Route("/login", login_page),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/federal", periods_page),
    Route("/federal/{period}", period_page),
    Route("/federal/{period}/national.{fmt}", national_export),
    Route("/federal/{period}/links", issue_links, methods=["POST"]),
    Route("/federal/{period}/regions/{code}", region_page),
    Route("/federal/{period}/regions/{code}/revoke", revoke_link, methods=["POST"]),
    Route("/federal/{period}/regions/{code}/v/{version:int}", version_page),
    Route("/federal/{period}/regions/{code}/v/{version:int}/{what:str}", version_file),
]
