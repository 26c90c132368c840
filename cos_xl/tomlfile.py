"""Load a TOML file into a pydantic model with one error that names the file, key and problem."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cos_xl.errors import CosXlError

M = TypeVar("M", bound=BaseModel)


def dotted_key(loc: tuple, data: dict) -> str:
    return ".".join(str(part) for part in loc)


def load_model(path: Path, model: type[M], error: type[CosXlError], what: str,
               key_of: Callable[[tuple, dict], str] = dotted_key) -> M:
    """Read ``path`` as TOML and validate it as ``model``; raise ``error`` naming the key."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise error(f"{path}: {key_of(first['loc'], data)}: {first['msg']}{more}") from exc
