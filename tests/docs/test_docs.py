"""The skill's documents cannot rot: every command in SKILL.md and references/ runs against a live paper
broker, from another directory as a skill host would run it, and its output matches what the document shows.

A ```bash block is a command. An `<!-- expect: json -->` marker before a ```json block makes that block the
expected output of the previous command (or, with `from "TEXT"`, of the last command containing TEXT);
`<!-- expect: exit N -->` sets the expected exit status (default 0). Expected JSON is a subset: every key
shown must be there with the value shown; "..." and "<placeholder>" stand for any value; a list's items
must each match some item of the actual list, and `[]` means empty.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "SKILL.md", *sorted((ROOT / "references").glob("*.md"))]
WORLD = yaml.safe_load((Path(__file__).with_name("world.yaml")).read_text(encoding="utf-8"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
MARKER = re.compile(r"<!--\s*expect:\s*(.*?)\s*-->")
DOC_TOKEN = "docs-test-token"


@dataclass
class Command:
    doc: str
    line: int
    text: str
    exit_status: int = 0
    expected: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def extract_commands(path: Path) -> list[Command]:
    text = path.read_text(encoding="utf-8")
    commands: list[Command] = []
    last_end = 0
    for match in FENCE.finditer(text):
        language, body = match.group(1), match.group(2)
        markers = MARKER.findall(text[last_end:match.start()])
        last_end = match.end()
        line = text.count("\n", 0, match.start()) + 1
        for marker in markers:
            if marker.startswith("exit") and commands:
                commands[-1].exit_status = int(marker.split()[1])
        if language == "bash":
            commands.append(Command(path.name, line, body.strip()))
        elif language == "json" and any(m.startswith("json") for m in markers):
            marker = next(m for m in markers if m.startswith("json"))
            source = re.search(r'from\s+"([^"]+)"', marker)
            target = ([c for c in commands if source.group(1) in c.text][-1] if source else commands[-1])
            target.expected.append(json.loads(body))
    return commands


ALL_COMMANDS = [command for doc in DOCS for command in extract_commands(doc)]


def matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and (expected == "..." or re.fullmatch(r"<[^>]+>", expected)):
        return actual is not None
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and matches(value, actual[key])
                                                for key, value in expected.items())
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        if not expected:
            return not actual
        return all(any(matches(item, candidate) for candidate in actual) for item in expected)
    return expected == actual


def parse_output(stdout: str) -> Any:
    """JSON from the command line; a Python literal from the seed's `print(Client()...)` snippets."""
    try:
        return json.loads(stdout)
    except ValueError:
        return ast.literal_eval(stdout.strip())


@pytest.fixture(scope="module")
def docs_broker(broker_url: str) -> str:
    return broker_url


@pytest.fixture
def shell_env(docs_broker: str, tmp_path: Path) -> dict[str, str]:
    from tests.conftest import TEST_TOKEN

    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "TRADING_API_URL": docs_broker,
        "TRADING_API_TOKEN": TEST_TOKEN,
        "SKILL_DIR": str(ROOT),
        "CLAUDE_SKILL_DIR": str(ROOT),  # Claude Code writes the skill's folder in its place
        "HOME": str(tmp_path),
    }


def test_every_document_has_commands_and_every_expected_block_belongs_to_one() -> None:
    assert {c.doc for c in ALL_COMMANDS} >= {"SKILL.md", "cancel-order.md", "list-orders.md", "account.md",
                                              "errors.md", "market-rules.md"}
    assert sum(len(c.expected) for c in ALL_COMMANDS) >= 12


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=str)
def test_documented_command_runs_and_prints_what_the_document_shows(
    command: Command, shell_env: dict[str, str], sim: httpx.Client, tmp_path: Path
) -> None:
    sim.post("/v1/sim/reset", json=WORLD).raise_for_status()
    # A skill host runs commands from its own working directory: `cd` to the skill folder as SKILL.md says.
    script = command.text if command.text.startswith("cd ") else f'cd "$SKILL_DIR" && {command.text}'
    result = subprocess.run(["bash", "-c", script], check=False, cwd=tmp_path, env=shell_env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == command.exit_status, f"{command}: {result.stderr}"
    for expected in command.expected:
        actual = parse_output(result.stdout)
        assert matches(expected, actual), f"{command}: output differs from the document:\n{result.stdout}"
    assert DOC_TOKEN not in result.stdout + result.stderr


def test_cancel_without_yes_previews_and_changes_nothing(shell_env: dict[str, str], sim: httpx.Client,
                                                          api: httpx.Client, tmp_path: Path) -> None:
    refs = sim.post("/v1/sim/reset", json=WORLD).json()["orders"]
    result = subprocess.run(["bash", "-c", 'cd "$SKILL_DIR" && python3 run.py trade cancel abc12345'],
                            cwd=tmp_path, env=shell_env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert json.loads(result.stdout)["preview"][0]["order_id"] == refs["buy_maotai"]
    assert "--yes" in result.stderr
    assert api.get(f"/v1/orders/{refs['buy_maotai']}").json()["state"] == "WORKING"


def test_skill_md_validates_with_the_reference_validator(tmp_path: Path) -> None:
    from skills_ref.parser import find_skill_md, parse_frontmatter
    from skills_ref.validator import validate

    skill_dir = tmp_path / "a-share-orders"
    skill_dir.mkdir()
    shutil.copy(ROOT / "SKILL.md", skill_dir / "SKILL.md")
    shutil.copytree(ROOT / "references", skill_dir / "references")
    assert validate(skill_dir) == []
    metadata, body = parse_frontmatter(find_skill_md(skill_dir).read_text(encoding="utf-8"))
    assert metadata["name"] == skill_dir.name
    for phrase in ("撤单", "撤掉刚才那单", "委托", "持仓", "可用资金"):
        assert phrase in metadata["description"]
    assert len(body.splitlines()) < 500
    # Well under 5,000 tokens: a CJK character is about one token, four ASCII characters about one.
    cjk = sum(1 for ch in body if ord(ch) > 0x2E80)
    assert cjk + (len(body) - cjk) / 4 < 2500
    assert "## Confirmation discipline" in body


def test_every_link_in_the_skill_points_to_a_file() -> None:
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#]+)\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_long_references_start_with_a_table_of_contents() -> None:
    for doc in DOCS[1:]:
        text = doc.read_text(encoding="utf-8")
        if len(text.splitlines()) > 100:
            assert "## Contents" in "\n".join(text.splitlines()[:10]), doc.name


def test_cancel_reference_keeps_everything_the_users_seed_says() -> None:
    seed = ROOT.parent / "shared" / "seed" / "cancel-order.md"
    if not seed.exists():
        pytest.skip("the seed is not beside this checkout")
    ours = (ROOT / "references" / "cancel-order.md").read_text(encoding="utf-8")
    for line in seed.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and "`" in line:
            assert line.strip() in ours, f"seed row missing: {line}"
    # The seed's Client snippets stay as documentation of the Client API (not as commands: see below).
    for token in ("DELETE /v1/orders/{order_id}", "Client().get('/v1/accounts/acc_default/orders?status=NEW,WORKING')",
                  "Client().delete('/v1/orders/ord_accdefault_abc12345')", "cash.available",
                  "positions[*].qty_locked_sell", "state_history", "remaining_qty", "Confirmation discipline"):
        assert token in ours, token


def test_the_only_runnable_cancel_is_the_confirmed_command_and_listing_asks_for_both_open_states() -> None:
    for command in ALL_COMMANDS:
        assert "python3 -c" not in command.text, f"{command}: a Client one-liner is documentation, not a command"
        assert "scripts." not in command.text, f"{command}: commands go through run.py"
        if " cancel " in f" {command.text} ":
            assert re.search(r"python3 run\.py trade cancel [\w ]+ (--dry-run|--yes)$|trade cancel abc12345$",
                             command.text), command
        assert "DELETE" not in command.text.upper().replace("--", ""), command
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert not re.search(r"status=WORKING|--status WORKING\b", text), f"{doc.name} lists WORKING orders only"
    reference = (ROOT / "references" / "cancel-order.md").read_text(encoding="utf-8")
    client_api = reference.split("## Client API (for developers; never cancel this way on a user's behalf)")[1]
    assert "Client().delete(" in client_api
    assert "Client().delete(" not in reference.split("## Client API")[0]
