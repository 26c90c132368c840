"""The template manifest's signature: HMAC-SHA256 over canonical JSON with a federal key.

The key comes from ``--key-file`` or the environment variable ``COS_XL_SIGNING_KEY``; a
development key is used only when asked for explicitly, and the manifest then says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cos_xl.errors import SigningKeyError

ENV_VAR = "COS_XL_SIGNING_KEY"
MIN_KEY_BYTES = 16
_DEV_KEY = b"cos-xl development key: never use for a real campaign"


@dataclass(frozen=True)
class SigningKey:
    secret: bytes
    dev: bool
    source: str

    def __repr__(self) -> str:  # never print the secret
        return f"SigningKey(dev={self.dev}, source={self.source!r})"

    @property
    def fingerprint(self) -> str:
        """16 hex digits that tell keys apart and reveal nothing of the secret."""
        return hashlib.sha256(b"cos-xl key fingerprint\x00" + self.secret).hexdigest()[:16]


def resolve_key(key_file: Path | None = None, dev_key: bool = False,
                env: Mapping[str, str] | None = None) -> SigningKey:
    """Pick the signing key: an explicit key file, else the environment, else the dev key if
    asked for; refuse otherwise."""
    env = os.environ if env is None else env
    if key_file is not None and dev_key:
        raise SigningKeyError("--key-file и --dev-key нельзя указывать вместе "
                              "(give either --key-file or --dev-key)")
    if key_file is not None:
        try:
            secret = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise SigningKeyError(f"Не удалось прочитать ключ подписи {key_file}: {exc}") from exc
        return _checked(secret, f"file {key_file}")
    if dev_key:
        return SigningKey(_DEV_KEY, dev=True, source="development key")
    if env.get(ENV_VAR):
        return _checked(env[ENV_VAR].strip().encode("utf-8"), f"environment {ENV_VAR}")
    raise SigningKeyError(
        "Не задан ключ подписи шаблонов: укажите --key-file ФАЙЛ или переменную окружения "
        f"{ENV_VAR}; для пробного запуска — --dev-key (no signing key: use --key-file, "
        f"{ENV_VAR}, or --dev-key for a development run)")


def _checked(secret: bytes, source: str) -> SigningKey:
    if len(secret) < MIN_KEY_BYTES:
        raise SigningKeyError(f"Ключ подписи из {source} короче {MIN_KEY_BYTES} байт "
                              f"(signing key too short)")
    return SigningKey(secret, dev=False, source=source)


def canonical_json(payload: Mapping) -> str:
    """The one serialisation that is signed: sorted keys, no spaces, UTF-8 text kept."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(text: str, key: SigningKey) -> str:
    return hmac.new(key.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(text: str, signature: str, key: SigningKey) -> bool:
    return hmac.compare_digest(sign(text, key), signature.strip().lower())
