"""The validator's one memory between files: results of pure functions of a part's exact bytes.

The returns of a round are one template saved by one or two office programs: most of their parts
(styles, the workbook part, relationships, the instructions sheet, often the check sheet, the VBA
modules) recur byte for byte, and so does what their signed manifests say of the period (the
structure a period's templates were issued with is rebuilt from it). What the reader computes from such a part depends on those bytes
alone, so it is computed once and looked up by the bytes' SHA-256 (and the kind of result).
Nothing else is remembered: no file names, no object identities, no partial matches. A verdict is
the same whether a result was computed or looked up — tests validate a corpus in random orders,
in one process and in many, and compare the JSON.

Results must be immutable (tuples, frozen dataclasses, strings): they are shared by every file
that has the same part. The memory is bounded in entries and in the bytes of the parts whose
results it keeps, least recently used first out.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MAX_ENTRIES = 256
#: of the parts behind the results kept (a parsed sheet takes a few times its bytes)
MAX_BYTES = 16 * 1024 * 1024

_results: OrderedDict[tuple[str, bytes], tuple[object, int]] = OrderedDict()
_size = 0


def by_bytes(kind: str, data: bytes, compute: Callable[[bytes], T], *extra: bytes,
             weight: int | None = None) -> T:
    """``compute(data)``, remembered under ``kind`` and the SHA-256 of ``data`` (and of
    ``extra`` bytes the result also depends on). ``weight``: what the result costs to keep, in
    bytes, when it is much larger than its input (default: the input's size)."""
    global _size
    digest = hashlib.sha256(data)
    for more in extra:
        digest.update(b"\x00%d\x00" % len(more))
        digest.update(more)
    key = (kind, digest.digest())
    found = _results.get(key)
    if found is not None:
        _results.move_to_end(key)
        return found[0]  # type: ignore[return-value]
    result = compute(data)
    if weight is None:
        weight = len(data) + sum(map(len, extra))
    if weight <= MAX_BYTES // 8:
        _results[key] = (result, weight)
        _size += weight
        while len(_results) > MAX_ENTRIES or _size > MAX_BYTES:
            _, (_, dropped) = _results.popitem(last=False)
            _size -= dropped
    return result


def clear() -> None:
    """Forget everything (tests; a long-running process between rounds does not need to)."""
    global _size
    _results.clear()
    _size = 0


def stats() -> tuple[int, int]:
    """(entries, bytes of the parts behind them)."""
    return len(_results), _size
