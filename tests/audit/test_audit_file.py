"""The audit file itself: where it lives, 0600, atomic appends from several processes, a torn last line skipped
and said, a full disk or an unwritable path reported once and never in the way of a cancel, and no token in
any entry."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from scripts._http import Client
from scripts.assistant import Assistant
from scripts.audit import AuditLog, configured_path, default_path, read_entries, user_folder
from scripts.broker import BrokerSettings, running_broker
from tests.assistant.offline_worlds import MAOTAI_BUY_RELEASED, SINGLE_MAOTAI
from tests.audit.conftest import OfflineChat, entries, events

ROOT = Path(__file__).resolve().parents[2]
DISTINCT_TOKEN = "tok-AUDIT-9f2c4e7a1b3d5e6f"  # appears nowhere but in the Authorization header
FULL_DISK = Path("/dev/full")  # every write fails with ENOSPC, as on a full disk
Start = Callable[..., OfflineChat]


# --- where, and who may read it ------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "environ", "expected"), [
    ("linux", {"HOME": "/home/u"}, "/home/u/.local/share/a-share-orders/audit.jsonl"),
    ("linux", {"HOME": "/home/u", "XDG_DATA_HOME": "/data"}, "/data/a-share-orders/audit.jsonl"),
    ("linux", {"HOME": "/home/u", "XDG_DATA_HOME": "relative"}, "/home/u/.local/share/a-share-orders/audit.jsonl"),
    ("darwin", {"HOME": "/Users/u"}, "/Users/u/Library/Application Support/a-share-orders/audit.jsonl"),
    ("win32", {"HOME": "/u", "LOCALAPPDATA": "/appdata"}, "/appdata/a-share-orders/audit.jsonl"),
])
def test_the_default_file_is_in_the_users_data_directory(platform: str, environ: dict[str, str],
                                                        expected: str) -> None:
    assert default_path(environ, platform) == Path(expected)


@pytest.mark.parametrize(("environ", "expected"), [
    ({"HOME": "/home/u"}, "/home/u/.local/state/a-share-orders"),
    ({"HOME": "/home/u", "XDG_STATE_HOME": "/state"}, "/state/a-share-orders"),
    ({"HOME": "/home/u", "XDG_STATE_HOME": "relative"}, "/home/u/.local/state/a-share-orders"),
])
def test_the_state_folder_an_installed_chat_keeps_its_demo_account_in(environ: dict[str, str], expected: str) -> None:
    assert user_folder("state", environ, "linux") == Path(expected)


@pytest.mark.parametrize("setting", ["off", "OFF", " none ", "0", "false", "no", "disabled"])
def test_an_explicit_setting_turns_the_log_off(setting: str) -> None:
    assert configured_path({"TRADING_AUDIT_LOG": setting, "HOME": "/h"}) is None
    assert not AuditLog.from_env("cli", environ={"TRADING_AUDIT_LOG": setting}).enabled


def test_unset_or_empty_means_the_default_and_a_path_means_that_path() -> None:
    assert configured_path({"HOME": "/h"}) == configured_path({"TRADING_AUDIT_LOG": "", "HOME": "/h"}) == Path(
        "/h/.local/share/a-share-orders/audit.jsonl")
    assert configured_path({"TRADING_AUDIT_LOG": "/x/y.jsonl"}) == Path("/x/y.jsonl")


def test_a_folder_named_as_the_log_holds_the_file(tmp_path: Path) -> None:
    assert configured_path({"TRADING_AUDIT_LOG": str(tmp_path)}) == tmp_path / "audit.jsonl"


def test_a_new_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "audit.jsonl"
    AuditLog(path, face="cli").record("preview_shown", order_ids=["ord_x"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


# --- atomic appends, and a crash's torn line ----------------------------------------------------------

WRITER = """
import sys
from scripts.audit import AuditLog
log = AuditLog(sys.argv[1], face="cli")
for n in range(int(sys.argv[2])):
    log.record("cancel_request", order_ids=[f"ord_{sys.argv[3]}_{n}"], text="撤" * 3000)
"""


def test_appends_from_several_processes_at_once_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), "60", str(n)], cwd=ROOT)
               for n in range(4)]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0, 0]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 240
    found = [json.loads(line) for line in lines]  # every line whole: 9 KB each, far past PIPE_BUF
    assert len({entry["order_ids"][0] for entry in found}) == 240
    for session in {entry["session"] for entry in found}:
        assert [e["seq"] for e in found if e["session"] == session] == list(range(1, 61))


def test_a_torn_last_line_is_skipped_by_the_reader_and_said(tmp_path: Path, trade) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, face="chat")
    log.record("preview_shown", order_ids=["ord_a"])
    log.record("answer", words="确认", kind="yes", result="confirmed", order_ids=["ord_a"])
    with path.open("ab") as file:  # the process died in the middle of writing its next entry
        file.write(b'{"ts":"2026-11-24T02:31:07Z","event":"cancel_req')

    read = read_entries(path)
    assert [entry["event"] for entry in read.entries] == ["preview_shown", "answer"]
    assert read.skipped == [3]

    AuditLog(path, face="chat").record("cancel_request", order_ids=["ord_a"])  # the next run appends
    read = read_entries(path)
    assert [entry["event"] for entry in read.entries] == ["preview_shown", "answer", "cancel_request"]
    assert read.skipped == [3]  # the torn piece stays on a line of its own; the new entry is whole

    shown = trade("audit", TRADING_AUDIT_LOG=str(path))
    assert shown.returncode == 0
    assert [entry["event"] for entry in json.loads(shown.stdout)["entries"]] == [
        "preview_shown", "answer", "cancel_request"]
    assert json.loads(shown.stdout)["skipped_lines"] == [3]
    assert "1 行无法读取" in shown.stderr
    assert "第 3 行" in shown.stderr


def test_the_reader_reads_only_as_far_back_as_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('not json\n{"event":"a"}\n[1]\n{"event":"b"}\n{"event":"c"}\n', encoding="utf-8")
    assert read_entries(path, last=2).entries == [{"event": "b"}, {"event": "c"}]
    assert read_entries(path, last=2).skipped == []
    assert read_entries(path, last=3).entries == [{"event": "a"}, {"event": "b"}, {"event": "c"}]
    assert read_entries(path, last=3).skipped == [3]  # passed on the way back; line 1 was never read
    assert read_entries(path).skipped == [1, 3]
    assert read_entries(tmp_path / "missing.jsonl").entries == []


# --- a file that cannot be written ---------------------------------------------------------------------


def test_a_full_disk_is_reported_once_and_the_lost_entries_counted(tmp_path: Path) -> None:
    log = AuditLog(FULL_DISK, face="chat")
    log.record("preview_shown", order_ids=["ord_a"])
    log.record("answer", words="确认", order_ids=["ord_a"])
    problem = log.take_problem()
    assert problem is not None
    assert problem.path == str(FULL_DISK)
    assert problem.reason.startswith("ENOSPC")
    assert log.take_problem() is None  # once per process
    assert AuditLog(FULL_DISK, face="cli").take_problem() is None

    # Space again (here: another file for the same log): the next entry says how many were lost.
    log.path = tmp_path / "audit.jsonl"
    log.record("cancel_request", order_ids=["ord_a"])
    gap, request = entries(log.path)
    assert (gap["event"], gap["lost"]) == ("audit_gap", 2)
    assert gap["reason"].startswith("ENOSPC")
    assert (request["event"], request["seq"]) == ("cancel_request", 3)


@pytest.fixture(params=["full_disk", "not_a_directory"])
def unwritable(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if request.param == "full_disk":
        path = FULL_DISK
    else:  # the tests run as root, so a mode bit would not stop them: a directory that is a file does
        (tmp_path / "blocker").write_text("a file where the directory should be")
        path = tmp_path / "blocker" / "audit.jsonl"
    monkeypatch.setenv("TRADING_AUDIT_LOG", str(path))
    return path


def test_an_unwritable_audit_file_is_said_once_and_the_cancel_still_goes_through(
    unwritable: Path, offline_chat: Start
) -> None:
    from scripts import audit

    audit._reported.discard(str(unwritable))  # a fresh process as far as reporting goes
    chat = offline_chat(SINGLE_MAOTAI)
    preview = chat.say("撤掉刚才那单")
    done = chat.say("确认")

    assert chat.state("A") == "CANCELLED"
    assert preview.text.startswith("⚠ 审计记录写不进")
    assert str(unwritable) in preview.text
    assert preview.text.endswith(preview.pending.text.strip())  # the preview still ends the reply
    assert "审计记录" not in done.text  # once
    assert MAOTAI_BUY_RELEASED in done.text  # the cancel's result reached the user
    assert [result["ok"] for result in done.cancel_results] == [True]


def test_an_unwritable_audit_file_on_the_command_line_is_one_line_on_stderr(unwritable: Path, trade,
                                                                            load_world) -> None:
    refs = load_world()
    result = trade("cancel", refs["A"], "--yes", TRADING_AUDIT_LOG=str(unwritable))
    assert result.returncode == 0
    assert json.loads(result.stdout)["cancelled"][0]["state"] == "CANCELLED"
    warnings = [line for line in result.stderr.splitlines() if "审计记录写不进" in line]
    assert len(warnings) == 1  # three entries failed (approval, request, outcome): said once
    assert "TRADING_AUDIT_LOG" in warnings[0]


# --- no secret in any entry ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_broker() -> Iterator[str]:
    """A broker of its own whose token is distinctive enough to find anywhere it leaks."""
    with running_broker(BrokerSettings(sim=True, token=DISTINCT_TOKEN)) as url:
        yield url


def test_the_token_appears_in_no_entry(secret_broker: str, audit_path: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with httpx.Client(base_url=secret_broker, timeout=30) as sim:
        refs = sim.post("/v1/sim/reset", json=SINGLE_MAOTAI).json()["orders"]
        monkeypatch.setenv("TRADING_API_TOKEN", DISTINCT_TOKEN)
        monkeypatch.setenv("TRADING_API_URL", secret_broker)
        with Client(base_url=secret_broker, token=DISTINCT_TOKEN) as client:
            # Told nothing about the token: the entries leave it out because they are built from named fields.
            chat = Assistant(client, engine="offline", audit=AuditLog(audit_path, face="chat"))
            chat.send("撤掉刚才那单")
            chat.send("确认")
            chat.send("撤单 ord_zzzzzzzz")  # an error path too
        sim.post("/v1/sim/reset", json=SINGLE_MAOTAI)
        run = subprocess.run([sys.executable, "-m", "scripts.trade", "cancel", refs["A"], "--yes"], cwd=ROOT,
                             env={**os.environ}, capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stderr
    text = audit_path.read_text(encoding="utf-8")
    assert {entry["face"] for entry in entries(audit_path)} == {"chat", "cli"}
    assert "cancel_outcome" in events(audit_path)
    for forbidden in (DISTINCT_TOKEN, DISTINCT_TOKEN[4:], "Bearer", "Authorization", "TRADING_API_TOKEN", "HOME"):
        assert forbidden not in text


def test_a_secret_the_log_knows_is_redacted_even_if_a_face_passes_it_by_mistake(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.from_env("chat", secrets=["demo-token-123456"],
                            environ={"TRADING_AUDIT_LOG": str(path), "TRADING_API_TOKEN": DISTINCT_TOKEN})
    log.record("answer", words=f"确认 {DISTINCT_TOKEN} demo-token-123456", extra={"t": DISTINCT_TOKEN})
    text = path.read_text(encoding="utf-8")
    assert DISTINCT_TOKEN not in text
    assert "demo-token-123456" not in text
    assert text.count("[redacted]") == 3


def test_a_writer_holding_the_lock_costs_an_entry_never_a_long_wait(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl
    import time

    from scripts import audit

    monkeypatch.setattr(audit, "LOCK_WAIT_SECONDS", 0.2)
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, face="cli")
    log.record("preview_shown", order_ids=["ord_a"])
    with path.open("rb") as other:  # another process stuck while holding the lock
        fcntl.flock(other, fcntl.LOCK_EX)
        started = time.monotonic()
        log.record("cancel_request", order_ids=["ord_a"])
        assert time.monotonic() - started < 2
    problem = log.take_problem()
    assert problem is not None
    log.record("cancel_outcome", order_ids=["ord_a"])
    assert [(e["event"], e.get("lost")) for e in entries(path)] == [
        ("preview_shown", None), ("audit_gap", 1), ("cancel_outcome", None)]
