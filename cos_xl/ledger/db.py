"""Where the ledger lives: a database URL, an engine set up for safe concurrent writers, and the
schema brought up to date with Alembic on open.

* SQLite (default ``cos-xl.sqlite`` in the working folder): WAL journal (readers never block the
  writer), ``synchronous=FULL`` (a committed submission survives a power cut), a 60 s busy
  timeout, and every writing transaction started with ``BEGIN IMMEDIATE`` so that two writers
  queue instead of deadlocking on a lock upgrade.
* PostgreSQL (``postgresql://…``, driven by psycopg 3): writers of one region and period queue
  on a transaction-scoped advisory lock; unique constraints back both up.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from cos_xl.errors import CosXlError

DEFAULT_DB = "cos-xl.sqlite"
BUSY_TIMEOUT_MS = 60_000
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_SPACE = 0x636F73  # "cos": first key of every advisory lock the ledger takes
_WRITE = "cos_xl_write"  # execution option: this transaction writes


class LedgerError(CosXlError):
    """The ledger cannot be opened or used (bad URL, server down, schema newer than the code)."""


def ledger_url(db: str | None) -> URL:
    """``None`` → the SQLite file in the working folder; a plain path → that SQLite file;
    ``postgresql://`` (or ``postgres://``) → PostgreSQL through psycopg 3."""
    text_url = db or DEFAULT_DB
    if "://" not in text_url:
        text_url = "sqlite:///" + text_url
    try:
        url = make_url(text_url)
    except ArgumentError as exc:
        raise LedgerError(f"Неверный адрес реестра {db!r} (bad database URL): {exc}") from exc
    if url.drivername in ("postgresql", "postgres"):  # a driver named explicitly is kept
        url = url.set(drivername="postgresql+psycopg")
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise LedgerError("Реестр в памяти не поддерживается: укажите файл, например "
                              "sqlite:///cos-xl.sqlite (an in-memory ledger is not supported)")
        folder = Path(url.database).resolve().parent
        if not folder.is_dir():
            raise LedgerError(f"Нет папки для файла реестра: {folder} (no such folder)")
    elif backend != "postgresql":
        raise LedgerError(f"Реестр {db!r}: поддерживаются sqlite:///ФАЙЛ и postgresql://… "
                          f"(unsupported database {backend!r})")
    return url


def shown(url: URL) -> str:
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True)


def _json(value: object) -> str:
    # Values are read from a workbook: numbers, texts, None; anything else (a date) as text,
    # and so are NaN and infinities, which PostgreSQL's json type rejects.
    try:
        return json.dumps(value, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=False, default=str)


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def create_ledger_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, json_serializer=_json,
                               connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, json_serializer=_json, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it to the first
    # write, too late for BEGIN IMMEDIATE).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE)
                         else "BEGIN")


def lock_key(name: str) -> int:
    """A signed 32-bit advisory lock key for a name such as ``77/2020Q3``."""
    value = zlib.crc32(name.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


@contextmanager
def writing(engine: Engine, lock: str) -> Iterator[Connection]:
    """One writing transaction: on SQLite the database write lock from its first statement, on
    PostgreSQL an advisory lock on ``lock`` (released at commit or rollback)."""
    with engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                         {"space": _LOCK_SPACE, "key": lock_key(lock)})
        yield conn


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; several processes may open a new ledger at once
    (the first migrates under the write lock, the others find it done)."""
    config = _alembic_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}

    def current(conn: Connection) -> set[str]:
        found = set(MigrationContext.configure(conn).get_current_heads())
        if found - known:
            raise LedgerError(
                f"Реестр {shown(engine.url)} создан более новой версией cos-xl (ревизия схемы "
                f"{', '.join(sorted(found - known))}); обновите cos-xl (schema is newer)")
        return found

    with engine.connect() as conn:
        if current(conn) == heads:
            return
    with writing(engine, "schema") as conn:
        if current(conn) != heads:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")


#: what a database holds: nothing yet, a cos-xl ledger, or tables of something else
EMPTY, LEDGER, FOREIGN = "empty", "ledger", "foreign"
_OUR_TABLES = {"alembic_version", "blobs", "submissions", "receipts"}


def contents(engine: Engine) -> str:
    """EMPTY, LEDGER or FOREIGN: whether the database (its default schema) is a cos-xl ledger."""
    names = set(inspect(engine).get_table_names())
    if not names:
        return EMPTY
    return LEDGER if {"alembic_version", "submissions"} <= names else FOREIGN


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite ledger; None for a server."""
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def open_engine(db: str | None, *, create: bool = False) -> tuple[Engine, bool]:
    """An engine on an up-to-date ledger, and whether this call created it. A ledger that does
    not exist is an error unless ``create`` (nothing is created then); so is a database that
    holds something else. Every failure is a LedgerError naming the ledger."""
    url = ledger_url(db)
    path = sqlite_file(url)
    if path is not None and not create and not path.is_file():
        raise LedgerError(
            f"Реестр не найден: {path.resolve()} — проверьте путь (--db или переменная "
            "COS_XL_DB). Новый реестр создают команды cos-xl intake и cos-xl ledger init "
            "(the ledger does not exist; nothing was created).")
    if path is not None and path.is_file() and path.stat().st_size and not _sqlite_header(path):
        raise LedgerError(f"Файл {path} — не реестр cos-xl: это не база данных SQLite "
                          "(not an SQLite database).")
    # A SQLite file is looked at read-only first: opening it for writing switches it to WAL,
    # which would change a database that turns out not to be a ledger.
    known = _sqlite_contents(path) if path is not None and path.is_file() else None
    engine = create_ledger_engine(url)
    try:
        found = known or contents(engine)
        if found == FOREIGN:
            raise LedgerError(
                f"{shown(url)} — не реестр cos-xl: в базе есть другие таблицы и нет таблиц "
                "реестра (not a cos-xl ledger; nothing was changed).")
        if found == EMPTY and not create:
            raise LedgerError(
                f"В {shown(url)} нет реестра cos-xl: создайте его командой cos-xl ledger init "
                "--db … или первым приёмом cos-xl intake (no ledger there; nothing was "
                "created).")
        upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise LedgerError(f"Не удалось открыть реестр {shown(url)}: {reason}") from exc
    except LedgerError:
        engine.dispose()
        raise
    return engine, found == EMPTY


def _sqlite_contents(path: Path) -> str:
    import sqlite3
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            names = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise LedgerError(f"Не удалось открыть реестр {path}: {exc}") from exc
    if not names:
        return EMPTY
    return LEDGER if {"alembic_version", "submissions"} <= names else FOREIGN


def _sqlite_header(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError as exc:
        raise LedgerError(f"Не удалось прочитать реестр {path}: {exc.strerror or exc}") from exc
