from __future__ import annotations

import pytest

from cos_xl.errors import SigningKeyError
from cos_xl.signing import ENV_VAR, canonical_json, resolve_key, sign, verify


def test_no_key_refuses_with_instructions():
    with pytest.raises(SigningKeyError, match="--dev-key"):
        resolve_key(None, False, env={})


def test_env_key_and_file_key(tmp_path):
    key = resolve_key(None, False, env={ENV_VAR: "x" * 32})
    assert not key.dev and key.secret == b"x" * 32
    path = tmp_path / "k"
    path.write_bytes(b"y" * 40 + b"\n")
    from_file = resolve_key(path, False, env={ENV_VAR: "x" * 32})
    assert from_file.secret == b"y" * 40 and "file" in from_file.source


def test_short_key_and_conflicting_options(tmp_path):
    with pytest.raises(SigningKeyError, match="короче"):
        resolve_key(None, False, env={ENV_VAR: "short"})
    with pytest.raises(SigningKeyError, match="вместе"):
        resolve_key(tmp_path / "k", True, env={})


def test_dev_key_is_flagged_and_secret_not_in_repr():
    key = resolve_key(None, True, env={})
    assert key.dev
    assert key.secret.decode() not in repr(key)


def test_signature_detects_any_change():
    key = resolve_key(None, False, env={ENV_VAR: "k" * 32})
    text = canonical_json({"b": 1, "a": "Москва"})
    assert text == '{"a":"Москва","b":1}'
    signature = sign(text, key)
    assert verify(text, signature, key)
    assert not verify(text.replace("1", "2"), signature, key)
    other = resolve_key(None, False, env={ENV_VAR: "z" * 32})
    assert not verify(text, signature, other)
