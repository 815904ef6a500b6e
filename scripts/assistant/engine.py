"""The engine protocol: what the assistant asks of an engine, and what an engine gives back.

A leaf of the assistant: `core` (the `Assistant`) and both engines (`offline`, `claude`) import it, and it imports
only the tool box's types, so no engine ever needs `core`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .replies import ReplyClass
    from .tools import ToolBox


@dataclass
class EngineAnswer:
    text: str
    failed: bool = False  # the turn did not complete (an API error, a malformed or cut-off response)
    model_written: bool = False  # the words are a model's, not the templates': they get checked
    model_calls: int = 0
    output_tokens: int = 0
    uncached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_tokens(self) -> int:
        return self.uncached_input_tokens + self.cache_write_tokens + self.cache_read_tokens


class Engine(Protocol):
    """An engine answers through the tools of its tool box, whose gate the `Assistant` holds it to."""

    name: str
    tools: ToolBox

    def respond(self, text: str, reply: ReplyClass) -> EngineAnswer:
        """Answer one user message (already recorded by the gate), using only the tool box's tools."""
        ...

    def replied(self, text: str) -> None:
        """The reply as the user read it (the preview appended, a false claim corrected), to remember."""
        ...

    # Optional: `prepare()`, the engine's one-time work before the first message, without any request
    # (`Assistant.prepare` calls it when the engine has it).
