"""Fixtures for the audit trail's tests: a file of each test's own, read back entry by entry.

    def test_x(audit_path, offline_chat):
        chat = offline_chat(world)               # the Assistant's log follows TRADING_AUDIT_LOG = audit_path
        ...
        assert events(audit_path) == ["preview_shown", ...]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.assistant.conftest import OfflineChat, chat, client, endpoint, offline_chat  # noqa: F401 - fixtures
from tests.skill.conftest import trade  # noqa: F401 - the command line as a subprocess


@pytest.fixture
def audit_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TRADING_AUDIT_LOG for this test only (the Assistant and `trade` subprocesses both follow it)."""
    path = tmp_path / "audit" / "audit.jsonl"
    monkeypatch.setenv("TRADING_AUDIT_LOG", str(path))
    return path


def entries(path: Path) -> list[dict[str, Any]]:
    """Every line of the file, each of which must be one JSON object."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def events(path: Path) -> list[str]:
    return [entry["event"] for entry in entries(path)]


def only(path: Path, event: str) -> dict[str, Any]:
    [entry] = [entry for entry in entries(path) if entry["event"] == event]
    return entry


__all__ = ["OfflineChat", "entries", "events", "only"]
