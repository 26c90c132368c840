"""Who may use the web intake (``cos-xl serve``), kept in the ledger beside the submissions.

* **Upload links**: one secret per region and period (``secrets.token_urlsafe(32)``, 256 bits).
  Only its SHA-256 is stored, so the secret is shown once, when it is issued; a link can be
  revoked, and then a new one issued. A random 256-bit value needs no slow hash: nobody can
  guess it from its digest.
* **Federal accounts**: a name and an argon2id hash of the password (argon2-cffi). Five wrong
  passwords in a row lock the account for 15 minutes.
* **Sessions** of federal users: a random cookie value, stored as its SHA-256, with its own
  form (CSRF) token and an absolute expiry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from cos_xl.ledger.db import LedgerError, writing
from cos_xl.ledger.records import utc
from cos_xl.ledger.schema import upload_tokens, users, web_sessions
from cos_xl.periods import Period

T, U, W = upload_tokens.c, users.c, web_sessions.c
MIN_PASSWORD = 12
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=12)
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_hasher = PasswordHasher()
# verified against when the name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AccessError(LedgerError):
    """An access request the ledger refuses (a link already issued, a bad user name)."""


@dataclass(frozen=True)
class Grant:
    """What an upload link allows: sending the returns of one region for one period."""

    token_id: int
    region_code: str
    period: str


@dataclass(frozen=True)
class IssuedLink:
    region_code: str
    period: str
    issued_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class User:
    id: int
    name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: dt.datetime


class Access:
    """Upload links, federal accounts and sessions of one ledger."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

    # --- upload links ----------------------------------------------------------------------

    def issue_links(self, period: Period | str, regions: Iterable[str], *,
                    replace: bool = False) -> dict[str, str]:
        """A new secret for each region (region → secret, shown only now). A region that has a
        link in force is refused unless ``replace``, which revokes that link first."""
        period = str(Period.parse(period))
        wanted = sorted(set(regions))
        now = utc(self.clock())
        issued: dict[str, str] = {}
        with writing(self.engine, f"links/{period}") as conn:
            active = {row.region_code for row in conn.execute(
                select(T.region_code).where(T.period == period, T.revoked_at.is_(None),
                                            T.region_code.in_(wanted)))}
            if active and not replace:
                raise AccessError(
                    f"У субъектов {', '.join(sorted(active))} уже есть действующие ссылки за "
                    f"{period}; выдать новые вместо них: --replace (старые перестанут "
                    "действовать)")
            if active:
                conn.execute(update(upload_tokens).where(
                    T.period == period, T.revoked_at.is_(None), T.region_code.in_(active))
                    .values(revoked_at=now))
            for region in wanted:
                secret = secrets.token_urlsafe(32)
                conn.execute(upload_tokens.insert().values(
                    token_sha256=digest(secret), region_code=region, period=period,
                    issued_at=now))
                issued[region] = secret
        return issued

    def revoke_links(self, period: Period | str, regions: Iterable[str] | None = None
                     ) -> list[str]:
        """Revoke the links in force of the period (of these regions only, if given); the
        regions whose link was revoked."""
        period = str(Period.parse(period))
        query = select(T.id, T.region_code).where(T.period == period, T.revoked_at.is_(None))
        if regions is not None:
            query = query.where(T.region_code.in_(sorted(set(regions))))
        with writing(self.engine, f"links/{period}") as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(update(upload_tokens).where(T.id.in_([r.id for r in rows]))
                             .values(revoked_at=utc(self.clock())))
        return sorted(r.region_code for r in rows)

    def links(self, period: Period | str | None = None) -> list[IssuedLink]:
        """Every link issued (of a period, if given), by period, region and time."""
        query = select(upload_tokens)
        if period is not None:
            query = query.where(T.period == str(Period.parse(period)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(T.period, T.region_code, T.id)).all()
        return [IssuedLink(r.region_code, r.period, utc(r.issued_at),
                           utc(r.revoked_at) if r.revoked_at else None) for r in rows]

    def grant(self, secret: str) -> Grant | None:
        """The grant of a link in force, or None (unknown, revoked, malformed)."""
        if not secret or len(secret) > 128:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(T.id, T.region_code, T.period).where(
                T.token_sha256 == digest(secret), T.revoked_at.is_(None))).first()
        return Grant(row.id, row.region_code, row.period) if row is not None else None

    # --- federal accounts ------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> User:
        """Create a federal account; the password is kept as an argon2id hash."""
        if not _NAME.match(name):
            raise AccessError(f"Имя пользователя {name!r}: латинские буквы, цифры и . _ @ -, "
                              "до 64 знаков")
        if len(password) < MIN_PASSWORD:
            raise AccessError(f"Пароль короче {MIN_PASSWORD} знаков")
        now = utc(self.clock())
        try:
            with writing(self.engine, "users") as conn:
                new_id = conn.execute(users.insert().values(
                    name=name, password_hash=_hasher.hash(password), created_at=now,
                    failed_logins=0)).inserted_primary_key[0]
        except IntegrityError as exc:
            raise AccessError(f"Пользователь {name} уже есть") from exc
        return User(new_id, name, now)

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [User(r.id, r.name, utc(r.created_at))
                    for r in conn.execute(select(users).order_by(U.name))]

    def remove_user(self, name: str) -> bool:
        """Remove an account and its sessions; whether it existed."""
        with writing(self.engine, "users") as conn:
            row = conn.execute(select(U.id).where(U.name == name)).first()
            if row is None:
                return False
            conn.execute(web_sessions.delete().where(W.user_id == row.id))
            conn.execute(users.delete().where(U.id == row.id))
        return True

    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is right and the account is not locked; a wrong
        password counts towards the lock. Takes about as long whatever the outcome."""
        now = utc(self.clock())
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(U.name == name)).first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            return None
        locked = row.locked_until is not None and utc(row.locked_until) > now
        right = _verify(row.password_hash, password)
        with writing(self.engine, "users") as conn:
            if right and not locked:
                values: dict = {"failed_logins": 0, "locked_until": None}
                if _hasher.check_needs_rehash(row.password_hash):
                    values["password_hash"] = _hasher.hash(password)
                conn.execute(update(users).where(U.id == row.id).values(**values))
                return User(row.id, row.name, utc(row.created_at))
            if not locked:
                failed = row.failed_logins + 1
                conn.execute(update(users).where(U.id == row.id).values(
                    failed_logins=0 if failed >= MAX_FAILED_LOGINS else failed,
                    locked_until=now + LOCKOUT if failed >= MAX_FAILED_LOGINS else None))
        return None

    # --- sessions --------------------------------------------------------------------------

    def open_session(self, user: User) -> tuple[str, Session]:
        """A new session: the cookie value (shown only now) and the session."""
        secret = secrets.token_urlsafe(32)
        now = utc(self.clock())
        session = Session(user, secrets.token_urlsafe(32), now + SESSION_LIFETIME)
        with writing(self.engine, "sessions") as conn:
            conn.execute(web_sessions.delete().where(W.expires_at < now))
            conn.execute(web_sessions.insert().values(
                id_sha256=digest(secret), user_id=user.id, csrf=session.csrf, created_at=now,
                expires_at=session.expires_at))
        return secret, session

    def session(self, secret: str) -> Session | None:
        """The session in force with this cookie value, or None."""
        if not secret or len(secret) > 128:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(W.csrf, W.expires_at, U.id, U.name, U.created_at)
                .join(users, U.id == W.user_id).where(W.id_sha256 == digest(secret))).first()
        if row is None or utc(row.expires_at) <= utc(self.clock()):
            return None
        return Session(User(row.id, row.name, utc(row.created_at)), row.csrf,
                       utc(row.expires_at))

    def close_session(self, secret: str) -> None:
        with writing(self.engine, "sessions") as conn:
            conn.execute(web_sessions.delete().where(W.id_sha256 == digest(secret)))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
