"""Scenario suites (`docs/scenarios.md`): load a folder of YAML files and check every scenario's shape.

A malformed scenario is not fatal to the rest: it comes back as a `SuiteProblem` naming the file, the
scenario and the field, so a run reports and counts it instead of crashing or skipping it silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_USER_TURNS = 8


class ScenarioLoader(yaml.SafeLoader):
    """YAML as of 1.2: only true/false are booleans, so `yes:`, `tags: [yes]` and `on` stay words."""


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                     list("tTfF"))
WORLD_FIELDS = ("now", "account", "accounts", "prices", "orders")


class Replies(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str | None = None  # null: the user declines ("算了，不撤了")
    choose: str | None = None  # null: the user says none of them ("都不是")


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cancelled: list[str] = Field(default_factory=list)
    may_delete: list[str] = Field(default_factory=list)
    asks_choice: bool | None = None
    asks_confirm: bool | None = None
    reply_contains: list[str] = Field(default_factory=list)
    reply_excludes: list[str] = Field(default_factory=list)


class Event(BaseModel):
    """The world moving between turns: price moves (bodies of /v1/sim/prices) and a clock move."""

    model_config = ConfigDict(extra="forbid")
    after_turn: int = Field(ge=1, le=MAX_USER_TURNS)
    prices: list[dict[str, Any]] = Field(default_factory=list)
    clock: dict[str, Any] | None = None


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    order: str | None = None  # a ref
    path: str | None = None
    method: str | None = None
    seconds: float | None = None
    status: int | None = None
    retry_after: int | None = None


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    now: str
    account: dict[str, Any] | None = None
    accounts: list[dict[str, Any]] | None = None
    prices: dict[str, Any] = Field(default_factory=dict)
    orders: list[dict[str, Any]] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    user: list[str] = Field(min_length=1, max_length=MAX_USER_TURNS)
    replies: Replies = Field(default_factory=Replies)
    yes: list[str] = Field(default_factory=list)  # more messages the author counts as an explicit yes
    events: list[Event] = Field(default_factory=list)
    expect: Expect
    source: str = ""  # the file it came from (set by the loader)

    @model_validator(mode="after")
    def _refs_exist(self) -> Scenario:
        refs = {str(order.get("ref")) for order in self.orders}
        for name in ("cancelled", "may_delete"):
            for ref in getattr(self.expect, name):
                if ref not in refs:
                    raise ValueError(f"expect.{name} names {ref!r}, which is no order ref")
        for fault in self.faults:
            if fault.order is not None and fault.order not in refs:
                raise ValueError(f"a fault names order {fault.order!r}, which is no order ref")
        return self

    def world(self) -> dict[str, Any]:
        """The body of `POST /v1/sim/reset`: exactly the scenario's world part."""
        world = {name: getattr(self, name) for name in WORLD_FIELDS if getattr(self, name) not in (None, [], {})}
        world["now"] = self.now
        return world


@dataclass(frozen=True)
class SuiteProblem:
    file: str
    scenario: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" scenario {self.scenario}" if self.scenario else "")
        return f"{where}: {self.field}: {self.message}"


@dataclass
class Suite:
    path: Path
    scenarios: list[Scenario]
    problems: list[SuiteProblem]


def load_suite(path: str | Path, tags: set[str] | None = None) -> Suite:
    """Every scenario of the YAML files under `path` (any folder); problems are collected, not raised."""
    root = Path(path).expanduser().resolve()
    if not root.exists():
        return Suite(root, [], [SuiteProblem(str(root), None, "path", "no such file or folder")])
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")) if root.is_dir() else [root]
    scenarios: list[Scenario] = []
    problems: list[SuiteProblem] = []
    seen: dict[str, str] = {}
    for file in files:
        name = str(file.relative_to(root) if root.is_dir() else file.name)
        try:
            data = yaml.load(file.read_text(encoding="utf-8"), Loader=ScenarioLoader)
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            problems.append(SuiteProblem(name, None, "yaml", str(error).splitlines()[0]))
            continue
        items = data if isinstance(data, list) else [data] if data is not None else []
        for index, item in enumerate(items):
            label = str(item.get("id")) if isinstance(item, dict) and item.get("id") else f"#{index + 1}"
            if not isinstance(item, dict):
                problems.append(SuiteProblem(name, label, "(scenario)", "a scenario is a mapping"))
                continue
            try:
                scenario = Scenario.model_validate({**item, "source": name})
            except ValidationError as error:
                for detail in error.errors(include_url=False):
                    loc = ".".join(str(part) for part in detail["loc"]) or "(scenario)"
                    problems.append(SuiteProblem(name, label, loc, detail["msg"]))
                continue
            if scenario.id in seen:
                problems.append(SuiteProblem(name, scenario.id, "id", f"also used in {seen[scenario.id]}"))
                continue
            seen[scenario.id] = name
            if tags and not tags.intersection(scenario.tags):
                continue
            scenarios.append(scenario)
    if not files:
        problems.append(SuiteProblem(str(root), None, "path", "no .yaml files"))
    return Suite(root, scenarios, problems)
