"""The simulated user: says the scenario's turns in order, then answers each question by its kind.

The kind comes from the assistant's structured state (`Reply.question`), never from parsing its text.
"""

from __future__ import annotations

import jinja2

from scripts.evals.suite import Scenario

DECLINE = "算了，不撤了"  # replies.confirm is null: the user declines
NONE_OF_THEM = "都不是"  # replies.choose is null: none of the listed orders


def fill(text: str, refs: dict[str, str]) -> str:
    """`{{ B.id }}` and `{{ B.short_id }}` become the real ids of ref B."""
    context = {ref: {"id": order_id, "short_id": order_id.rsplit("_", 1)[-1]} for ref, order_id in refs.items()}
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(**context)


class ScriptedUser:
    def __init__(self, scenario: Scenario, refs: dict[str, str]) -> None:
        self.turns = [fill(turn, refs) for turn in scenario.user]
        self.confirm = fill(scenario.replies.confirm, refs) if scenario.replies.confirm else DECLINE
        self.choose = fill(scenario.replies.choose, refs) if scenario.replies.choose else NONE_OF_THEM
        self.said = 0

    def next(self, question: str | None) -> str | None:
        """The next thing to say after a reply that asked `question` (None: the conversation is over)."""
        if self.said < len(self.turns):
            self.said += 1
            return self.turns[self.said - 1]
        if question == "confirm":
            return self.confirm
        if question == "choose":
            return self.choose
        return None


