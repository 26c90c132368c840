"""What every response gets, and what every form is checked for.

* Security headers: a Content-Security-Policy without inline scripts or styles, no framing, no
  MIME sniffing, no referrer to other sites (a region's page address holds its secret; plain
  ``no-referrer`` would make browsers send ``Origin: null`` with our own forms), HSTS over
  HTTPS, and ``Cache-Control: no-store`` on everything but the static files.
* An access log of our own, with the secret of a region's link cut out of the path (uvicorn's
  own access log is off); an ``Authorization`` header is never logged.
* Forms: a CSRF token — the federal session's own token when logged in, else a double-submit
  cookie — and a same-origin check of ``Origin`` when the browser sends it.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("cos_xl.web.access")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")
_SECRET_IN_PATH = re.compile(r"^/r/[^/]+")


def redacted(path: str) -> str:
    """The path as logged: a region link's secret replaced by ``***``."""
    return _SECRET_IN_PATH.sub("/r/***", path)


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every response, the access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        path = scope.get("path", "")
        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in HEADERS if h[0] not in names]
                if scope.get("scheme") == "https":
                    extra.append(HSTS)
                if not static and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            client = scope.get("client") or ("-", 0)
            access_log.info('%s "%s %s" %s %.0f ms', client[0], scope.get("method"),
                            redacted(path), status or "-",
                            (time.perf_counter() - started) * 1000)


# --- CSRF ------------------------------------------------------------------------------------

CSRF_FIELD = "csrf"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def cookie_name(request: Request, name: str) -> str:
    """``__Host-`` cookies (Secure, path /, no domain) over HTTPS."""
    return f"__Host-{name}" if is_https(request) else name


def set_cookie(response, request: Request, name: str, value: str, *, max_age: int | None,
               samesite: str = "lax") -> None:
    response.set_cookie(cookie_name(request, name), value, max_age=max_age, path="/",
                        httponly=True, samesite=samesite, secure=is_https(request))


def browser_token(request: Request) -> tuple[str, bool]:
    """The double-submit token of this browser, and whether it is new (to be set)."""
    value = request.cookies.get(cookie_name(request, "cos_xl_csrf"), "")
    if re.fullmatch(r"[A-Za-z0-9_-]{43}", value):
        return value, False
    return secrets.token_urlsafe(32), True


def same_origin(request: Request) -> bool:
    """False when the browser says the form came from another site."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent (an older browser, a script): the token alone decides
        return True
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin == expected


def token_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(
        str(expected).encode(), str(given).encode())
