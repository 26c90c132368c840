"""The seal of the sheet «Замечания» that the validator adds to an annotated copy.

A region may fix the marked cells in the annotated copy and send it back, so the validator must
tell its own sheet from one a region added. The copy's sheet carries, in a hidden cell, an HMAC
(the federal signing key) over every other cell of that sheet and over the template's manifest:
a sheet with a valid seal is the validator's own and is set aside; an edited one, one moved to
another workbook, or any other added sheet is not. Highlights and notes on cells are styles and
comments, which the structure check never compares.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from cos_xl.signing import SigningKey, canonical_json, sign, verify

ANNOTATION_SHEET = "Замечания"
#: The hidden cell that holds the seal; the hidden column beside it keeps the fills the
#: highlighted cells had before, to put back when a copy is annotated again.
SEAL_CELL = "J1"
SEAL_COLUMN = "J"
FILLS_COLUMN = "K"
SEAL_PREFIX = "cos-xl-annotation/1:"


def _payload(cells: Mapping[str, object], manifest_text: str) -> str:
    content = {ref: str(value) for ref, value in cells.items()
               if ref != SEAL_CELL and value not in (None, "")}
    return canonical_json({"manifest": hashlib.sha256(manifest_text.encode()).hexdigest(),
                           "sheet": ANNOTATION_SHEET, "cells": content})


def seal(cells: Mapping[str, object], manifest_text: str, key: SigningKey) -> str:
    """The text of the seal cell for a sheet of these cells (A1 -> value as written)."""
    return SEAL_PREFIX + sign(_payload(cells, manifest_text), key)


def sealed(cells: Mapping[str, object], manifest_text: str, key: SigningKey) -> bool:
    """Whether these cells (as read back, A1 -> value) are the sheet the validator wrote."""
    stamp = cells.get(SEAL_CELL)
    if not isinstance(stamp, str) or not stamp.startswith(SEAL_PREFIX):
        return False
    return verify(_payload(cells, manifest_text), stamp[len(SEAL_PREFIX):], key)
