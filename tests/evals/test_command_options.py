"""The evaluation command refuses an option the chosen engine does not take, before anything runs."""

from __future__ import annotations

import pytest

from scripts.evals.__main__ import parse_args


def test_a_model_for_the_offline_engine_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(["run", "evals/cancel", "--model", "claude-x"])
    assert stopped.value.code == 2
    assert "claude engine only" in capsys.readouterr().err


def test_a_model_for_the_claude_engine_is_taken() -> None:
    assert parse_args(["run", "evals/cancel", "--engine", "claude", "--model", "claude-x"]).model == "claude-x"
