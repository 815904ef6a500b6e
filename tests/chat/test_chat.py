"""The main job: `python -m scripts.chat` starts a demo broker and answers piped lines, one reply each."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def chat(lines: str, db: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ANTHROPIC_") and key != "TRADING_READ_ONLY"} | extra_env
    return subprocess.run([sys.executable, "-m", "scripts.chat", "--db", str(db), *args], input=lines, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_piped_chat_previews_then_cancels_on_confirmation_with_the_offline_engine(tmp_path: Path) -> None:
    result = chat("撤掉刚才那单\n确认\n", tmp_path / "demo.db", "--fresh")
    assert result.returncode == 0, result.stderr
    assert "Engine: offline" in result.stderr
    assert "确认撤销吗" in result.stdout
    assert "已撤单" in result.stdout
    assert "释放冻结资金" in result.stdout


def test_the_demo_account_persists_between_runs_and_fresh_starts_over(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    chat("全部撤掉\n确认\n", db, "--fresh")
    kept = chat("我有哪些未成交的委托\n", db)
    assert "没有" in kept.stdout or "0 笔" in kept.stdout, kept.stdout
    fresh = chat("我有哪些未成交的委托\n", db, "--fresh")
    assert "贵州茅台" in fresh.stdout


def test_a_weak_reply_does_not_cancel_in_the_chat(tmp_path: Path) -> None:
    result = chat("撤掉刚才那单\n好\n", tmp_path / "demo.db", "--fresh")
    assert "已撤单" not in result.stdout
    assert "明确确认" in result.stdout


def test_the_chat_takes_the_claude_model_from_its_command_line(tmp_path: Path) -> None:
    from tests.assistant.scripted_anthropic import ScriptedAnthropic, text, turn

    with ScriptedAnthropic() as endpoint:
        endpoint.script(turn(text("您好，请问要查委托还是撤单？")))
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}
        env["ANTHROPIC_BASE_URL"] = endpoint.url
        result = subprocess.run([sys.executable, "-m", "scripts.chat", "--db", str(tmp_path / "demo.db"), "--fresh",
                                 "--model", "claude-opus-4-8", "--timeout", "20"], input="你好\n", cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert "Engine: claude" in result.stderr
    assert "您好，请问要查委托还是撤单？" in result.stdout
    assert [request["model"] for request in endpoint.requests] == ["claude-opus-4-8"]


def test_the_banner_names_the_account_kind_the_broker_serves(tmp_path: Path) -> None:
    result = chat("你好\n", tmp_path / "demo.db", "--fresh")
    assert result.returncode == 0, result.stderr
    assert "离线规则引擎）· 模拟账户" in result.stderr


def test_a_piped_chats_preview_names_the_account_kind(tmp_path: Path) -> None:
    result = chat("撤掉刚才那单\n", tmp_path / "demo.db", "--fresh")
    assert "账户：模拟账户" in result.stdout


@pytest.mark.parametrize(("args", "env"), [(("--read-only",), {}), ((), {"TRADING_READ_ONLY": "1"})])
def test_a_read_only_chat_cancels_nothing_and_says_why(tmp_path: Path, args: tuple[str, ...],
                                                      env: dict[str, str]) -> None:
    result = chat("撤掉刚才那单\n确认\n全部撤掉\n确认\n", tmp_path / "demo.db", "--fresh", *args, **env)
    assert result.returncode == 0, result.stderr
    assert "只读模式" in result.stderr  # the banner
    assert "只读模式" in result.stdout
    assert "TRADING_READ_ONLY" in result.stdout
    assert "确认撤销吗" not in result.stdout
    assert "已撤单" not in result.stdout
    still = chat("我有哪些未成交的委托\n", tmp_path / "demo.db")
    assert "贵州茅台" in still.stdout  # the demo's open orders are all still there


@pytest.mark.skipif(os.name != "posix", reason="the broker runs in a child process on POSIX only")
def test_the_demo_broker_ends_with_the_chat_even_when_the_chat_is_killed(tmp_path: Path) -> None:
    """The broker is a child serving a socket the chat bound; it stops when the chat's end of its stdin
    closes, so a chat killed with SIGKILL leaves no broker behind holding the demo database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}
    chat_process = subprocess.Popen([sys.executable, "-m", "scripts.chat", "--db", str(tmp_path / "demo.db")],
                                    cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
    assert chat_process.stdin is not None
    assert chat_process.stdout is not None
    chat_process.stdin.write("可用资金还有多少\n")
    chat_process.stdin.flush()
    assert "可用资金" in chat_process.stdout.readline()
    children = subprocess.run(["pgrep", "-P", str(chat_process.pid)], capture_output=True, text=True,
                              check=False).stdout.split()
    assert len(children) == 1, "one broker child"
    chat_process.kill()
    chat_process.wait()
    broker_pid = int(children[0])
    for _ in range(500):
        try:
            os.kill(broker_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        os.kill(broker_pid, 9)
        pytest.fail("the broker outlived the chat")


def test_a_database_the_broker_cannot_open_ends_the_chat_with_the_brokers_words(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    db.write_bytes(b"this is not a SQLite database, it is a shopping list" * 100)
    result = chat("可用资金还有多少\n", db)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "broker:" in result.stderr, result.stderr  # the broker's own sentence: what is wrong with the file
    assert result.stdout == ""
