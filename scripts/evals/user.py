"""The simulated user: says the scenario's turns in order, then answers each question by its kind.

The kind comes from the assistant's structured state (`Reply.question`), never from parsing its text.
"""

from __future__ import annotations

import os

import jinja2

from .suite import Scenario

DECLINE = "算了，不撤了"  # replies.confirm is null: the user declines
NONE_OF_THEM = "都不是"  # replies.choose is null: none of the listed orders
OPENING = "（对话开始。请说出你的第一句话。）"


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

    def next(self, question: str | None, assistant_text: str | None = None) -> str | None:
        """The next thing to say after a reply that asked `question` (None: the conversation is over)."""
        if self.said < len(self.turns):
            self.said += 1
            return self.turns[self.said - 1]
        if question == "confirm":
            return self.confirm
        if question == "choose":
            return self.choose
        return None




PERSONA = """You play a Chinese retail investor chatting with your broker's assistant about your A-share
orders. Write only what you would type next, in the same language as the lines below, short and natural.
What you want in this conversation, in the order you would say it:
{turns}
If the assistant asks you to confirm a cancel, you answer with exactly these words and nothing else: {confirm}
If the assistant asks which order you mean, you answer: {choose}
Never invent order ids or figures; never confirm anything you were not asked about."""


class ClaudeUser:
    """An LLM-played user (`--user claude`): the same scenario, phrased by Claude from a short persona.

    Like `ScriptedUser`, it speaks first and then only while the assistant asks a question (the kind read
    from `Reply.question`), so both users end a conversation on the same rule.
    """

    def __init__(self, scenario: Scenario, refs: dict[str, str], model: str | None = None,
                 anthropic_client: object | None = None) -> None:
        import anthropic

        from ..assistant import Assistant

        scripted = ScriptedUser(scenario, refs)
        self.persona = PERSONA.format(turns="\n".join(f"- {turn}" for turn in scripted.turns),
                                      confirm=scripted.confirm, choose=scripted.choose)
        self.client = anthropic_client or anthropic.Anthropic()
        self.model = model or os.environ.get("ANTHROPIC_MODEL") or Assistant.default_model()
        self.goals = len(scripted.turns)
        # The simulated user is the model's "assistant" role; the assistant under test speaks as "user".
        self.history: list[dict[str, str]] = [{"role": "user", "content": OPENING}]
        self.said = 0

    def next(self, question: str | None, assistant_text: str | None = None) -> str | None:
        if self.said >= self.goals and question is None:
            return None
        if assistant_text is not None and self.said:
            self.history.append({"role": "user", "content": f"助手：{assistant_text}"})
        response = self.client.messages.create(  # type: ignore[attr-defined]
            model=self.model, max_tokens=200, system=self.persona, messages=self.history)
        said = "".join(block.text for block in response.content if block.type == "text").strip()
        self.history.append({"role": "assistant", "content": said})
        self.said += 1
        return said
