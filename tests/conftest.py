"""Shared fixtures: tools that a test needs must fail, not skip, when CI=true."""

from __future__ import annotations

import os

import pytest


def require_tool(available: bool, what: str) -> None:
    """Skip on a developer laptop, fail under CI=true, when a real tool is missing."""
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required under CI=true but is not installed")
    pytest.skip(f"{what} is not installed")
