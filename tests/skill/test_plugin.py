"""The Claude Code plugin (`.claude-plugin/`): the skill and the MCP server install together, and Claude Code's own
validator (`claude plugin validate`, from the npm registry) accepts the marketplace, and the plugin under the
plugin directory's profile with no blocking finding. Skipped, saying so, where npx is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts import __version__

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / ".claude-plugin" / "plugin.json"
MARKETPLACE = ROOT / ".claude-plugin" / "marketplace.json"
VALIDATOR = ["npx", "--yes", "@anthropic-ai/claude-code@latest", "plugin", "validate", "--json"]


def test_the_manifests_ship_the_root_skill_and_start_the_mcp_server_through_the_launcher() -> None:
    plugin = json.loads(PLUGIN.read_text(encoding="utf-8"))
    marketplace = json.loads(MARKETPLACE.read_text(encoding="utf-8"))
    assert plugin["name"] == marketplace["plugins"][0]["name"] == "a-share-orders"
    assert plugin["version"] == marketplace["plugins"][0]["version"] == __version__
    assert marketplace["plugins"][0]["source"] == "./"
    assert plugin["skills"] == ["./"]  # the repository root is the skill folder (SKILL.md beside run.py)
    server = plugin["mcpServers"]["a-share-orders"]
    assert server["command"] == "python3"  # a bare python3 is enough: run.py prepares the rest
    assert server["args"] == ["${CLAUDE_PLUGIN_ROOT}/run.py", "mcp"]
    assert (ROOT / "run.py").is_file()
    assert set(server["env"]) >= {"TRADING_API_URL", "TRADING_API_TOKEN", "TRADING_ACCOUNT_ID"}


def validate(*args: str) -> dict:
    if shutil.which("npx") is None:
        pytest.skip("npx (Node.js) is not installed: Claude Code's validator cannot run here")
    try:
        result = subprocess.run([*VALIDATOR, *args], cwd=ROOT.parent, capture_output=True, text=True, timeout=600,
                                check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("the npm registry did not answer in time: Claude Code's validator could not be fetched")
    if not result.stdout.strip().startswith("{"):
        pytest.skip(f"Claude Code's validator could not run: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def test_claude_codes_validator_accepts_the_marketplace() -> None:
    report = validate(str(MARKETPLACE))
    assert report["success"] is True, report
    assert report["manifest"]["type"] == "marketplace"
    assert report["manifest"]["errors"] == []


def test_claude_codes_validator_accepts_the_plugin_for_the_plugin_directory() -> None:
    report = validate("--profile", "directory", str(PLUGIN))
    assert report["success"] is True, report
    assert report["manifest"]["errors"] == []
    assert not [finding for finding in report["directory"]["findings"] if finding.get("blocking")], report
    assert report["directory"]["incomplete"] is False
    assert "a-share-orders:a-share-orders" in report["provides"]["skills"]
    assert [server["name"] for server in report["provides"]["mcpServers"]] == ["a-share-orders"]
