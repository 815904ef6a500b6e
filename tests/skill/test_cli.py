"""`a-share-orders` (scripts/cli.py): one command with subcommands; a subcommand whose extra is missing says which
`pip install` to run and exits 9, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import __version__
from tests.conftest import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, hide: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess[str]:
    """Run the console script's main with some packages made unimportable (as if not installed)."""
    code = (f"import sys; sys.modules.update(dict.fromkeys({list(hide)!r})); "
            f"from scripts.cli import main; sys.exit(main({list(args)!r}))")
    # An environment of its own (a bare machine), with the session's audit file rather than the user's.
    bare = {"PATH": "/usr/bin:/bin", "TRADING_AUDIT_LOG": os.environ["TRADING_AUDIT_LOG"]}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False, env={**bare, **env})


def test_version_and_help_name_every_subcommand() -> None:
    assert cli("--version").stdout.strip() == f"a-share-orders {__version__}"
    help_text = cli("--help").stdout
    for name in ("chat", "trade", "broker", "mcp", "evals", "audit"):
        assert f"  {name} " in help_text


@pytest.mark.parametrize(("command", "hidden", "extra"), [("mcp", "mcp", "mcp"), ("broker", "uvicorn", "broker"),
                                                          ("chat", "anthropic", "chat"), ("evals", "yaml", "evals"),
                                                          ([], "opencc", "chat")])
def test_a_subcommand_without_its_extra_names_the_pip_install_and_exits_9(command, hidden: str, extra: str) -> None:
    result = cli(*([command] if command else []), hide=(hidden,))
    assert result.returncode == 9
    assert result.stderr.strip().count("\n") == 0
    assert f"pip install 'a-share-orders[{extra}]'" in result.stderr
    assert result.stdout == ""  # stdout is the MCP server's protocol channel
    assert "Traceback" not in result.stderr


def test_trade_without_a_core_dependency_is_one_json_error(broker_url: str) -> None:
    result = cli("trade", "market", hide=("httpx",), TRADING_API_URL=broker_url)
    assert result.returncode == 9
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["recovery_hint"]) == ("DEPENDENCY_MISSING", "contact_support")
    assert error["details"]["install"] == "pip install 'a-share-orders'"


def test_trade_runs_the_skills_command_line(broker_url: str, load_world) -> None:
    load_world()
    result = cli("trade", "orders", "--status", "NEW,WORKING", TRADING_API_URL=broker_url,
                 TRADING_API_TOKEN=TEST_TOKEN)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["orders"]) == 2


def test_an_unknown_subcommand_is_a_usage_error() -> None:
    result = cli("cancel-everything")
    assert result.returncode == 2
    assert "unknown command" in result.stderr


def test_the_broker_needs_only_its_own_extra(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    others = ["rich", "anthropic", "opencc", "pypinyin", "rapidfuzz", "yaml", "mcp"]
    code = (f"import sys; sys.modules.update(dict.fromkeys({others!r})); from scripts.cli import main; "
            f"sys.exit(main(['broker', '--demo', '--port', '{port}', '--db', {str(tmp_path / 'demo.db')!r}]))")
    broker = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                              env={"PATH": "/usr/bin:/bin", "TRADING_API_TOKEN": TEST_TOKEN,
                                   "TRADING_AUDIT_LOG": os.environ["TRADING_AUDIT_LOG"]})
    try:
        deadline = time.monotonic() + 30
        while True:
            assert broker.poll() is None, broker.stderr.read() if broker.stderr else ""
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/accounts/acc_default/orders",
                                   headers={"Authorization": f"Bearer {TEST_TOKEN}"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert answer.status_code == 200
        assert answer.json()["orders"], "the demo account has orders"
    finally:
        broker.terminate()
        broker.wait(timeout=30)


def test_a_part_this_copy_does_not_ship_is_one_line_not_a_traceback() -> None:
    result = cli("evals", "run", "evals/cancel", hide=("scripts.evals",))  # the skill folder leaves it out
    assert result.returncode == 2
    assert "does not include scripts.evals" in result.stderr
    assert "Traceback" not in result.stderr
