"""The web intake over HTTP against the real server process (uvicorn, worker processes), on
SQLite and on PostgreSQL: tokens, the region's pages, CSRF, size limits, the hostile corpus,
85 regions at once, a server killed with SIGKILL mid-round, a worker over its time limit."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from web_helpers import PASSWORD, PERIOD, LiveServer, build_returns, prepare_ledger, upload

from cos_xl.ledger import open_ledger
from cos_xl.regions import regions_for_period

ALL = [r.code for r in regions_for_period(2020, 3)]


# --- one server per database ------------------------------------------------------------------

@pytest.fixture(scope="module")
def returns(tmp_path_factory):
    """The 85 regions' returns of 2020Q3 and one of 2020Q2 for region 77."""
    folder = tmp_path_factory.mktemp("returns")
    files = build_returns(folder)
    files["77@2020Q2"] = build_returns(folder / "q2", ["77"], "2020Q2")["77"]
    return files


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                                marks=pytest.mark.postgres)])
def db(request, tmp_path_factory):
    """A ledger URL for the module: a SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'ledger.sqlite'}"
        return
    import sqlalchemy as sa

    from conftest import require_tool
    from cos_xl.ledger.db import ledger_url
    server = request.getfixturevalue("pg_server_url")
    schema = f"w_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(ledger_url(server))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        require_tool(False, f"PostgreSQL ({exc.orig})")
    yield f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="module")
def site(db, tmp_path_factory):
    """The running server, and the secret link of every region."""
    secrets = prepare_ledger(db, ALL)
    with LiveServer(db, tmp_path_factory.mktemp("server")) as server:
        server.secrets = secrets
        yield server


@pytest.fixture
def client():
    with httpx.Client(timeout=60, follow_redirects=False) as c:
        yield c


def counts(db: str) -> dict:
    with open_ledger(db) as ledger:
        return dict(ledger.counts())


def spool_files(server: LiveServer) -> list[Path]:
    return [p for p in (server.folder / "spool").rglob("*.*") if p.name != "pid"]


# --- basics -----------------------------------------------------------------------------------

def test_health_and_security_headers(site, client):
    response = client.get(f"{site.url}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    page = client.get(f"{site.url}/r/{site.secrets['01']}")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert "server" not in page.headers
    assert "<script" not in re.sub(r'<script src="/static/[a-z]+\.js" defer></script>', "",
                                   page.text)  # no inline script anywhere
    assert "Республика Адыгея" in page.text and "15.10.2020" in page.text
    csrf_cookie = page.headers["set-cookie"]
    assert "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie
    # the secret never reaches the log (the line is written as the response ends)
    for _ in range(50):
        if '"GET /r/***" 200' in site.log.read_text():
            break
        time.sleep(0.05)
    assert '"GET /r/***" 200' in site.log.read_text()
    assert site.secrets["01"] not in site.log.read_text()


def test_a_wrong_or_revoked_link_is_401_and_404(site, client, returns, db):
    before = counts(db)
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic x"},
                    {"Authorization": f"Bearer {site.secrets['02'][:-1]}"}):
        with open(returns["02"], "rb") as handle:
            response = client.post(f"{site.url}/api/v1/submissions", headers=headers,
                                   files={"file": ("x.xlsm", handle)})
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get(f"{site.url}/r/nonsense").status_code == 404
    # revoked: the link stops working at once, for the API and the page
    with open_ledger(db) as ledger:
        assert ledger.access.revoke_links(PERIOD, ["03"]) == ["03"]
    assert upload(client, site.url, site.secrets["03"], returns["03"]).status_code == 401
    page = client.get(f"{site.url}/r/{site.secrets['03']}")
    assert page.status_code == 404 and "недействительна" in page.text
    assert counts(db) == before


def test_another_regions_or_periods_file_is_403_and_not_stored(site, client, returns, db):
    before = counts(db)
    response = upload(client, site.url, site.secrets["04"], returns["05"])
    assert response.status_code == 403
    body = response.json()
    assert body["status"] == "refused" and "субъекта 05" in body["message"]
    response = upload(client, site.url, site.secrets["77"], returns["77@2020Q2"])
    assert response.status_code == 403 and "периода 2020Q2" in response.json()["message"]
    assert counts(db) == before
    assert spool_files(site) == []


def test_an_upload_over_the_limit_is_413_while_streaming(site, client, db):
    before = counts(db)
    big = b"PK" + b"\0" * (21 << 20)
    # a declared length over the limit: refused before the body is read
    response = client.post(f"{site.url}/api/v1/submissions",
                           headers={"Authorization": f"Bearer {site.secrets['06']}"},
                           files={"file": ("big.xlsm", big)})
    assert response.status_code == 413

    # no declared length (chunked): counted while streaming, refused at the limit
    def chunks():
        yield (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsm\""
               b"\r\n\r\n")
        for _ in range(22):
            yield b"\0" * (1 << 20)
        yield b"\r\n--b--\r\n"

    response = client.post(f"{site.url}/api/v1/submissions", content=chunks(),
                           headers={"Authorization": f"Bearer {site.secrets['06']}",
                                    "content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413
    # the same through the region's form: a page that says so
    page = client.get(f"{site.url}/r/{site.secrets['06']}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = client.post(f"{site.url}/r/{site.secrets['06']}/upload",
                           data={"csrf": csrf}, files={"file": ("big.xlsm", big)})
    assert response.status_code == 413 and "больше 20 МБ" in response.text
    assert counts(db) == before
    assert spool_files(site) == []
    assert client.get(f"{site.url}/healthz").status_code == 200


def test_a_malformed_request_is_400(site, client):
    headers = {"Authorization": f"Bearer {site.secrets['06']}"}
    assert client.post(f"{site.url}/api/v1/submissions", headers=headers,
                       content=b"x").status_code == 400
    assert client.post(f"{site.url}/api/v1/submissions", headers=headers,
                       data={"other": "1"}, files={"notfile": ("a", b"a")}).status_code == 400
    response = client.post(f"{site.url}/api/v1/submissions", content=b"--b\r\nbroken",
                           headers={**headers,
                                    "content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400


# --- the region's pages -----------------------------------------------------------------------

def _form_post(client, url, page, path, name=None, **extra):
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    with open(path, "rb") as handle:
        return client.post(url, data={"csrf": csrf}, files={"file": (name or path.name, handle)}, **extra)


def test_the_region_uploads_sees_the_verdict_and_what_changed(site, client, returns, tmp_path,
                                                               db):
    base = f"{site.url}/r/{site.secrets['10']}"
    page = client.get(base)
    assert "не получен" in page.text and "Файлов ещё не было" in page.text
    # a return with a number typed as text: rejected, the finding names the cell
    wrong = build_returns(tmp_path, ["10"], changes={"students_go": "1 234 567"})["10"]
    response = _form_post(client, f"{base}/upload", page, wrong)
    assert response.status_code == 303
    assert response.headers["location"] == "/r/" + site.secrets["10"] + "/v/1?received=new"
    version = client.get(site.url + response.headers["location"])
    assert "Не принят" in version.text and "value-as-text" in version.text
    assert re.search(r"Данные![A-Z]+\d+", version.text)
    annotated = client.get(f"{base}/v/1/annotated")
    assert annotated.status_code == 200
    assert "attachment" in annotated.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(annotated.content)) as book:
        assert "Замечания" in book.read("xl/workbook.xml").decode()
    original = client.get(f"{base}/v/1/original")
    assert hashlib.sha256(original.content).hexdigest() == hashlib.sha256(
        wrong.read_bytes()).hexdigest()
    # the corrected return: accepted, version 2 (nothing accepted before: nothing to compare)
    response = _form_post(client, f"{base}/upload", page, returns["10"])
    assert response.headers["location"].endswith("/v/2?received=new")
    version = client.get(site.url + response.headers["location"])
    assert "Принят" in version.text and "Принятых версий до этой не было" in version.text
    # a resubmission with other figures: what changed against version 2
    changed = build_returns(tmp_path / "v3", ["10"], changes={"e403_go": 1000})["10"]
    response = _form_post(client, f"{base}/upload", page, changed)
    version = client.get(site.url + response.headers["location"])
    assert "Что изменилось" in version.text and "По сравнению с версией 2" in version.text
    assert "Показатель E4.03" in version.text and "1\u00a0000" in version.text
    # the same bytes again: recognised, no new version
    response = _form_post(client, f"{base}/upload", page, changed)
    assert response.headers["location"].endswith("/v/3?received=duplicate")
    assert "уже был получен" in client.get(site.url + response.headers["location"]).text
    history = client.get(base).text
    assert history.count("Версия ") >= 3 and "принят" in history
    # the region's template, as generate writes it
    template = client.get(f"{base}/template")
    assert template.status_code == 200
    assert 'filename="cos_2020Q3_10.xlsm"' in template.headers["content-disposition"]
    from web_helpers import DEV_KEY

    from cos_xl.generate import generate
    (issued,) = generate(PERIOD, tmp_path / "issued", DEV_KEY, regions=["10"]).paths
    assert template.content == issued.read_bytes()  # byte for byte what generate writes
    # only its own: another region's version numbers do not exist under this link
    assert client.get(f"{base}/v/9").status_code == 404


def test_forms_need_the_csrf_token_and_the_same_origin(site, client, returns, db):
    before = counts(db)
    base = f"{site.url}/r/{site.secrets['11']}"
    page = client.get(base)
    with open(returns["11"], "rb") as handle:  # no token at all
        response = client.post(f"{base}/upload", files={"file": ("a.xlsm", handle)})
    assert response.status_code == 403
    with open(returns["11"], "rb") as handle:  # a token, but not this browser's cookie
        response = client.post(f"{base}/upload", data={"csrf": "x" * 43},
                               files={"file": ("a.xlsm", handle)})
    assert response.status_code == 403
    response = _form_post(client, f"{base}/upload", page, returns["11"],
                          headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert counts(db) == before
    # the login form too
    login = client.get(f"{site.url}/login")
    response = client.post(f"{site.url}/login", data={"name": "analyst", "password": PASSWORD})
    assert response.status_code == 403 and "cos_xl_session" not in response.headers.get(
        "set-cookie", "")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
    response = client.post(f"{site.url}/login", data={
        "name": "analyst", "password": PASSWORD, "csrf": csrf},
        headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


# --- the federal pages ------------------------------------------------------------------------

def login(client, site, password=PASSWORD):
    page = client.get(f"{site.url}/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(f"{site.url}/login", data={
        "name": "analyst", "password": password, "csrf": csrf, "next": "/federal"})


def test_federal_pages_need_a_login_and_show_the_round(site, client, returns):
    assert client.get(f"{site.url}/federal/{PERIOD}").status_code == 303
    assert client.get(f"{site.url}/federal/{PERIOD}/national.xlsx").status_code == 303
    wrong = login(client, site, "wrong password!")
    assert "Неверное имя или пароль" in wrong.text and "cos_xl_session" not in wrong.cookies
    response = login(client, site)
    assert response.status_code == 303 and response.headers["location"] == "/federal"
    cookie = response.headers["set-cookie"]
    assert "cos_xl_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert upload(client, site.url, site.secrets["12"], returns["12"]).status_code == 200
    page = client.get(f"{site.url}/federal/{PERIOD}")
    assert page.status_code == 200
    row = re.search(r'<tr data-region="12">.*?</tr>', page.text, re.S).group(0)
    assert "принят" in row
    assert "E4.03" in page.text and "Национальные значения" in page.text
    assert "<svg" in page.text
    region = client.get(f"{site.url}/federal/{PERIOD}/regions/12")
    assert "Версия 1" in region.text
    assert "Версия 1" in client.get(f"{site.url}/federal/{PERIOD}/regions/12/v/1").text
    for fmt, start in (("xlsx", b"PK"), ("json", b"{"), ("csv", b"\xef\xbb\xbf")):
        export = client.get(f"{site.url}/federal/{PERIOD}/national.{fmt}")
        assert export.status_code == 200 and export.content.startswith(start), fmt
    # logging out ends the session on the server: the old cookie, replayed, opens nothing
    stolen = client.cookies["cos_xl_session"]
    page = client.get(f"{site.url}/federal")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post(f"{site.url}/logout", data={"csrf": csrf}).status_code == 303
    assert client.get(f"{site.url}/federal").status_code == 303
    with httpx.Client(cookies={"cos_xl_session": stolen}) as replay:
        assert replay.get(f"{site.url}/federal").status_code == 303


def test_links_are_issued_in_the_browser_once(site, client, db):
    response = login(client, site)
    page = client.get(f"{site.url}/federal/{PERIOD}/regions/20")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post(f"{site.url}/federal/{PERIOD}/links", data={"region": "20"}).status_code == 403  # no token
    issued = client.post(f"{site.url}/federal/{PERIOD}/links",
                         data={"region": "20", "csrf": csrf})
    assert issued.status_code == 200 and issued.headers["content-type"].startswith("text/csv")
    header, line = issued.text.strip().splitlines()
    assert header == "region_code,token,url"
    code, secret, url = line.split(",")
    assert code == "20" and url == f"{site.url}/r/{secret}"
    assert client.get(url).status_code == 200
    assert client.get(f"{site.url}/r/{site.secrets['20']}").status_code == 404  # replaced
    client.post(f"{site.url}/federal/{PERIOD}/regions/20/revoke", data={"csrf": csrf})
    assert client.get(url).status_code == 404
    with open_ledger(db) as ledger:  # only digests are kept
        assert secret not in str([tuple(r) for r in ledger.engine.connect().exec_driver_sql(
            "SELECT * FROM upload_tokens").fetchall()])


# --- hostile files and load -------------------------------------------------------------------

def test_every_hostile_file_gets_a_clean_verdict(site, client, tmp_path, db):
    from test_safety import CORPUS, DEFAULT, real_templates

    templates = real_templates()  # region 77's: the files built from them are 77's
    for case, (builder, _code, limits) in CORPUS.items():
        name, data = builder(templates)
        if data is None:  # the file over the size limit: test_an_upload_over_the_limit…
            continue
        path = tmp_path / f"hostile{Path(name).suffix}"
        path.write_bytes(data)
        response = upload(client, site.url, site.secrets["77"], path, name=name)
        assert response.status_code < 500, (case, response.text)
        if response.status_code == 413:
            continue
        assert response.status_code == 200, (case, response.text)
        body = response.json()
        assert set(body) >= {"region_code", "period", "version", "verdict", "status",
                             "findings"}
        if limits != DEFAULT:  # hostile only under a smaller limit than the server's
            continue
        assert body["verdict"] == "FAIL" and body["status"] in ("new", "skipped", "duplicate")
        assert body["findings"] or body["status"] == "skipped", case
    # and through the region's page, a few: a verdict page, never a 500
    page = client.get(f"{site.url}/r/{site.secrets['77']}")
    for case in ("bomb_ratio", "billion_laughs", "garbage", "empty"):
        name, data = CORPUS[case][0](templates)
        path = tmp_path / "hostile.xlsm"
        path.write_bytes(data)
        response = _form_post(client, f"{site.url}/r/{site.secrets['77']}/upload", page, path)
        assert response.status_code in (200, 303), (case, response.status_code)
        assert "Итог" in response.text or response.status_code == 303
    assert spool_files(site) == []
    assert client.get(f"{site.url}/healthz").status_code == 200


@pytest.mark.slow
def test_85_regions_upload_at_once(ledger_url, returns, tmp_path):
    """One server, 85 simultaneous uploads: every one answered, none 5xx, each recorded once."""
    secrets = prepare_ledger(ledger_url, ALL)
    with LiveServer(ledger_url, tmp_path / "server") as server, httpx.Client(
            timeout=120, limits=httpx.Limits(max_connections=100)) as client:
        barrier = threading.Barrier(len(ALL))

        def send(code):
            barrier.wait()
            return code, upload(client, server.url, secrets[code], returns[code])

        with ThreadPoolExecutor(len(ALL)) as pool:
            answers = dict(pool.map(send, ALL))
    assert {r.status_code for r in answers.values()} == {200}
    assert {a.json()["status"] for a in answers.values()} == {"new"}
    with open_ledger(ledger_url) as ledger:
        stored = ledger.submissions(PERIOD)
        assert sorted(s.region_code for s in stored) == sorted(ALL)  # each exactly once
        assert {s.version for s in stored} == {1}
        assert {s.region_code: s.sha256 for s in stored} == {
            code: hashlib.sha256(returns[code].read_bytes()).hexdigest() for code in ALL}
        assert ledger.counts()["receipts"] == len(ALL)


@pytest.mark.slow
def test_nothing_acknowledged_is_lost_when_the_server_is_killed(ledger_url, returns, tmp_path):
    secrets = prepare_ledger(ledger_url, ALL)
    server = LiveServer(ledger_url, tmp_path / "server").start()
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()

    def send(code):
        try:
            with httpx.Client(timeout=30) as client:
                response = upload(client, server.url, secrets[code], returns[code])
        except httpx.HTTPError:
            return  # cut off by the kill: not acknowledged
        if response.status_code == 200:
            with lock:
                acknowledged[code] = response.json()["sha256"]

    try:
        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(send, code) for code in ALL]
            while len(acknowledged) < 20:
                time.sleep(0.01)
            server.kill9()
            for future in futures:
                future.result()
    finally:
        server.stop()
    assert 20 <= len(acknowledged) < len(ALL)
    with open_ledger(ledger_url) as ledger:
        stored = {s.region_code: s.sha256 for s in ledger.submissions(PERIOD)}
    for code, sha in acknowledged.items():
        assert stored.get(code) == sha, code
    # restarted, the round goes on: the rest arrives, and what was stored is recognised
    with LiveServer(ledger_url, tmp_path / "server2") as again, httpx.Client(
            timeout=60, limits=httpx.Limits(max_connections=20)) as client, \
            ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(
            lambda code: upload(client, again.url, secrets[code], returns[code]), ALL))
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["status"] for a, code in zip(answers, ALL)
            if code in acknowledged} == {"duplicate"}
    with open_ledger(ledger_url) as ledger:
        stored = ledger.submissions(PERIOD)
    assert sorted(s.region_code for s in stored) == sorted(ALL)
    assert {s.version for s in stored} == {1}


# The worker pool does not depend on the database: these two run on SQLite only.

def test_a_worker_over_its_time_limit_is_replaced_and_the_server_answers(returns, tmp_path):
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    secrets = prepare_ledger(ledger_url, ["40", "41"])
    with LiveServer(ledger_url, tmp_path / "server", "--timeout", "0.001",
                    "--workers", "1") as server, httpx.Client(timeout=30) as client:
        before = server.workers()
        assert len(before) == 1
        response = upload(client, server.url, secrets["40"], returns["40"])
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "error" and body["verdict"] == "FAIL"
        assert "не уложилась" in body["message"]
        assert client.get(f"{server.url}/healthz").status_code == 200
        assert len(server.workers()) == 1 and server.workers() != before  # replaced
    with open_ledger(ledger_url) as ledger:
        assert ledger.submissions(PERIOD) == []


def test_a_worker_that_dies_is_replaced(returns, tmp_path):
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    import os
    import signal
    secrets = prepare_ledger(ledger_url, ["42"])
    with LiveServer(ledger_url, tmp_path / "server", "--workers", "1") as server, \
            httpx.Client(timeout=30) as client:
        (worker,) = server.workers()
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.2)
        first = upload(client, server.url, secrets["42"], returns["42"])
        assert first.status_code < 500
        second = upload(client, server.url, secrets["42"], returns["42"])
        assert second.status_code == 200 and second.json()["verdict"] != "FAIL"
