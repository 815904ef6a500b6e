"""`--user claude`: an LLM plays the scenario's user from a persona (here: scripted model turns written by
this test, served by the local scripted Messages endpoint; not recordings of Claude)."""

from __future__ import annotations

import pytest

from scripts.evals import RunOptions, Scenario, build_report, run_suite
from tests.assistant.scripted_anthropic import ScriptedAnthropic, text, turn
from tests.evals.test_runner import SCENARIOS


def test_an_llm_played_user_drives_the_same_scenario_to_the_same_grade(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = Scenario.model_validate(SCENARIOS[0])  # "撤掉刚才那单", confirms; expects B cancelled
    with ScriptedAnthropic() as endpoint:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", endpoint.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "scripted")
        endpoint.script(turn(text("帮我把刚下的那笔撤掉")), turn(text("确认")))
        runs = run_suite([scenario], RunOptions(engine="offline", user="claude", concurrency=1))
        report = build_report(runs, [], "offline", 1, 1.0)
        assert report["results"][0]["passed"], report["results"][0]["failures"]
        said = [entry["text"] for entry in report["results"][0]["transcript"] if entry["role"] == "user"]
        assert said == ["帮我把刚下的那笔撤掉", "确认"]
        persona = endpoint.requests[0]["system"]
        assert "撤掉刚才那单" in persona
        assert "确认" in persona
        # The second model call saw the assistant's preview as the other party's words.
        assert "180,046.80" in endpoint.requests[1]["messages"][-1]["content"]
