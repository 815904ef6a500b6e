"""The audit trail: one JSON line per thing done or shown on the user's behalf, appended to a file they can read.

Every face (the chat, the command line, the MCP server) records the same events through one small API:

    log = AuditLog.from_env(face="cli")                    # TRADING_AUDIT_LOG, else the user's data directory
    log = log.bound(account="acc_default", environment="paper", engine="offline")   # context for later entries
    log.record("preview_shown", order_ids=[...], text="将撤销…")                        # never raises
    problem = log.take_problem()   # the first failure to write (an AuditProblem), once per process and path

A face makes one log per session (a chat, a command invocation, an MCP server process) and shows a problem
as `messages.render("audit_unwritable", path=problem.path, reason=problem.reason)`. `order_facts(order)` and
`cancel_outcome(results)` shape the fields of `preview_shown` and `cancel_outcome` from the project's order
summaries and `orders.cancel_by_ids` results. A face built on the assistant's `ToolBox` sets `tools.audit =
log` and gets `cancel_request`, `cancel_outcome` and `cancel_refused` from the box; `Assistant(…, audit=log)`
records the rest of a conversation.

Where: `TRADING_AUDIT_LOG=/path/to/audit.jsonl` (an existing folder: `audit.jsonl` in it);
`TRADING_AUDIT_LOG=off` (also `none`, `0`, `false`, `no`, `disabled`) records nothing; unset or empty:
`audit.jsonl` in the user's data directory under `a-share-orders/` ($XDG_DATA_HOME or ~/.local/share on Linux,
~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows). A new file is created 0600 (its directory
0700).

An entry is one JSON object on one line:

    {"ts": "2026-11-24T02:31:07.123456Z", "event": "...", "session": "s_…", "seq": 3, "face": "chat",
     "engine": "offline", "account": "acc_default", "environment": "paper", ...the event's own fields}

`ts` is UTC; `session` is one per chat, command invocation or MCP server process (`new_session_id()`); `seq`
counts the session's entries from 1, so a gap shows. `environment` is what the API said ("paper", "live"), or
"unknown". The events and their fields (a face may add more; readers ignore what they do not know):

    preview_shown    order_ids, orders (key facts of each: id, stock, side, qty, price, state, what it frees),
                     text (the preview exactly as rendered), asks (1, or 2 when asked again); dry_run for the CLI
    answer           a typed reply at a confirmation: words (exactly as typed), kind (yes / no / question /
                     weak / mismatch / other), order_ids (the preview it answered), result ("confirmed",
                     "asked_again", or "dropped" with reason: declined, unconfirmed, mismatch, new_request,
                     expired, ...)
    approval         a decision not typed: decision ("approve" / "reject"), via ("button", "--yes",
                     "elicitation", "approval_page"), order_ids, result as for `answer` ("nothing_pending" when
                     there was no preview to decide on)
    cancel_request   order_ids: written before the request is sent, so a crash mid-flow leaves a request without
                     an outcome (check those orders) rather than no trace at all
    cancel_outcome   order_ids, results: one per order {order_id, ok, state, released} or {order_id, ok: false,
                     code, state_now (the order as queried after an unclear outcome such as OUTCOME_UNKNOWN, else
                     null)}; cancelled and failed (the ids); or error (a code) when no result came at all
    cancel_refused   the confirmation gate refused a cancel (reason, order_ids): nothing was sent
    cancel_reported  text: the reply the user read after a cancel
    audit_gap        lost, reason: entries that could not be written since the last one that was

Never in an entry: the token (nor an Authorization header, nor the environment): entries are built from named
fields only, and as a second guard every secret the log knows (TRADING_API_TOKEN, ANTHROPIC_API_KEY, and any
given to `from_env(secrets=...)`) is replaced by "[redacted]" before a line is written.

Appends are atomic: each entry is encoded whole, then written by one `os.write` on an O_APPEND descriptor
under an exclusive `flock` (POSIX; waited for at most 2 s, else the entry is lost and said, never the cancel
held up), so two processes appending at once (a chat and a command) never interleave;
a line left half-written by a crash is ended with a newline before the next entry, and `read_entries` skips
any line that is not a JSON object and says which. Each entry is `fsync`ed: entries are a handful per minute
at human pace, and the one written just before a cancel is sent must survive a power cut, since it is the
only trace of that cancel if the process dies before the outcome.

A write that fails (a full disk, an unwritable file or directory) never raises and never blocks the caller: the
entry is counted as lost, `take_problem()` hands the face the first problem once per process (the face shows
one sentence), and the next entry that can be written is preceded by an `audit_gap` entry saying how many were
lost.
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

try:  # POSIX: an advisory lock around each append; Windows appends without it
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["AUDIT_ENV", "AuditLog", "AuditProblem", "AuditRead", "cancel_outcome", "default_path", "new_session_id",
           "order_facts", "read_entries", "user_folder"]

AUDIT_ENV = "TRADING_AUDIT_LOG"
OFF_WORDS = frozenset({"off", "none", "0", "false", "no", "disabled"})
APP_DIR = "a-share-orders"
FILE_NAME = "audit.jsonl"
SECRET_ENVS = ("TRADING_API_TOKEN", "ANTHROPIC_API_KEY")
MIN_SECRET_LENGTH = 8  # shorter "secrets" (a test's "x") would redact ordinary words
REDACTED = "[redacted]"
LOCK_WAIT_SECONDS = 2.0  # another writer holds the lock for one write and an fsync: milliseconds

_reported: set[str] = set()  # paths whose problem a face has been handed: once per process
_reported_lock = threading.Lock()


@dataclass(frozen=True)
class AuditProblem:
    """Why the audit file could not be written: its path and the system's reason (errno name and text)."""

    path: str
    reason: str


def new_session_id() -> str:
    """One per chat, command invocation or MCP server process."""
    return f"s_{_secrets.token_hex(6)}"


def user_folder(kind: Literal["data", "state"], environ: Mapping[str, str] | None = None,
                platform: str | None = None) -> Path:
    """This project's folder for the user's `kind` of files on this platform: under XDG_DATA_HOME or
    XDG_STATE_HOME (a relative one is ignored, as the XDG spec says), else ~/.local/share or ~/.local/state;
    LOCALAPPDATA on Windows; ~/Library/Application Support on macOS."""
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    home = Path(env.get("HOME") or Path.home())
    if platform.startswith("win"):
        base = Path(env["LOCALAPPDATA"]) if env.get("LOCALAPPDATA") else home / "AppData" / "Local"
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = env.get(f"XDG_{kind.upper()}_HOME", "")
        fallback = home / ".local" / {"data": "share", "state": "state"}[kind]
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else fallback
    return base / APP_DIR


def default_path(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """`a-share-orders/audit.jsonl` in the user's data directory for this platform."""
    return user_folder("data", environ, platform) / FILE_NAME


def configured_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The file TRADING_AUDIT_LOG names, the default when it is unset or empty, None when it turns the log off."""
    env = os.environ if environ is None else environ
    setting = env.get(AUDIT_ENV, "").strip()
    if setting.lower() in OFF_WORDS:
        return None
    if not setting:
        return default_path(env)
    path = Path(setting).expanduser()
    return path / FILE_NAME if path.is_dir() else path  # a folder named: the file in it


class AuditLog:
    """Appends entries to one file (or nowhere, when `path` is None); `bound` makes a log with more context.

    Safe to share between threads; `record` never raises.
    """

    def __init__(self, path: Path | str | None, *, face: str, session: str | None = None,
                 secrets: Iterable[str] = (), **context: Any) -> None:
        self.path = Path(path) if path is not None else None
        self.session = session or new_session_id()
        self.context: dict[str, Any] = {"face": face, **{k: v for k, v in context.items() if v is not None}}
        self._secrets = tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len,
                                     reverse=True))
        self._state = _SessionState()

    @classmethod
    def from_env(cls, face: str, *, session: str | None = None, secrets: Iterable[str] = (),
                 environ: Mapping[str, str] | None = None, **context: Any) -> AuditLog:
        """The log TRADING_AUDIT_LOG asks for (see the module docstring). `context`: engine, account,
        environment… as known now; `secrets`: strings that must never reach the file (the env's tokens are
        added)."""
        env = os.environ if environ is None else environ
        known = [*secrets, *(env.get(name, "") for name in SECRET_ENVS)]
        return cls(configured_path(env), face=face, session=session, secrets=known, **context)

    @classmethod
    def off(cls, face: str, **context: Any) -> AuditLog:
        """A log that records nothing."""
        return cls(None, face=face, **context)

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def bound(self, **context: Any) -> AuditLog:
        """The same file, session and sequence, with more context (account, environment, engine) on every entry."""
        child = AuditLog.__new__(AuditLog)
        child.path, child.session, child._secrets, child._state = self.path, self.session, self._secrets, self._state
        child.context = {**self.context, **{key: value for key, value in context.items() if value is not None}}
        return child

    def record(self, event: str, **fields: Any) -> None:
        """Append one entry; a failure to write is remembered for `take_problem`, never raised."""
        if self.path is None:
            return
        try:
            with self._state.lock:
                self._state.seq += 1
                entry = {"ts": _utc_now(), "event": event, "session": self.session, "seq": self._state.seq,
                         **self.context, **fields}
                line = self._line(entry)
                lost = self._state.lost
                if lost:
                    gap = {"ts": entry["ts"], "event": "audit_gap", "session": self.session, **self.context,
                           "lost": lost, "reason": self._state.problem.reason if self._state.problem else ""}
                    line = self._line(gap) + line
                self._append(line)
                self._state.lost = 0
        except (OSError, ValueError, TypeError) as error:  # never the cancel's problem
            with self._state.lock:
                self._state.lost += 1
                if self._state.problem is None:
                    self._state.problem = AuditProblem(str(self.path), _reason(error))

    def take_problem(self) -> AuditProblem | None:
        """The first failure to write, once per process and file: the face shows it to the user, then never again."""
        problem = self._state.problem
        if problem is None:
            return None
        with _reported_lock:
            if problem.path in _reported:
                return None
            _reported.add(problem.path)
        return problem

    def _line(self, entry: dict[str, Any]) -> bytes:
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)
        for secret in self._secrets:  # as given, and as JSON escapes it
            text = text.replace(secret, REDACTED).replace(json.dumps(secret, ensure_ascii=False)[1:-1], REDACTED)
        return (text + "\n").encode("utf-8")

    def _append(self, data: bytes) -> None:
        path = self.path
        assert path is not None
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            _lock(fd)
            if not _ends_a_line(fd):
                data = b"\n" + data  # end the line a crash left half-written, so this entry starts its own
            written = os.write(fd, data)
            if written != len(data):  # a full disk mid-line: the reader will skip the torn piece
                raise OSError(28, f"only {written} of {len(data)} bytes written")
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock


@dataclass
class _SessionState:
    """What a log and its bound children share: the sequence, lost entries, the first problem."""

    seq: int = 0
    lost: int = 0
    problem: AuditProblem | None = None

    def __post_init__(self) -> None:
        self.lock = threading.Lock()


@dataclass(frozen=True)
class AuditRead:
    """The last entries of a file, oldest first, and the numbers (from 1) of the lines skipped as unreadable."""

    entries: list[dict[str, Any]]
    skipped: list[int]


def read_entries(path: Path | str, last: int | None = None) -> AuditRead:
    """The entries of the file (only the last `last` of them when given), oldest first. A line that is not a
    JSON object (a torn last line after a crash) is skipped and its number reported, never an error; a missing
    file has no entries."""
    try:
        lines = Path(path).read_bytes().splitlines()
    except FileNotFoundError:
        return AuditRead([], [])
    entries: list[dict[str, Any]] = []
    skipped: list[int] = []
    for index in range(len(lines) - 1, -1, -1):  # from the end: `last` stops the parsing early
        if last is not None and len(entries) >= last:
            break
        raw = lines[index]
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            entry = None
        if isinstance(entry, dict):
            entries.append(entry)
        else:
            skipped.append(index + 1)
    return AuditRead(entries[::-1], skipped[::-1])


ORDER_FACTS = ("order_id", "symbol", "name", "side", "qty", "limit_price", "filled_qty", "remaining_qty", "state",
               "frozen_cash", "would_release")


def order_facts(order: Mapping[str, Any]) -> dict[str, Any]:
    """What an entry keeps of an order as it was shown: enough to recognise it and what cancelling frees."""
    return {key: order[key] for key in ORDER_FACTS if key in order}


def cancel_outcome(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The fields of a `cancel_outcome` entry from one result per order, as `orders.cancel_by_ids` gives them
    (`{"order_id", "ok": True, "order"}` or `{"order_id", "ok": False, "error" or "code", "order_now"}`)."""
    rows: list[dict[str, Any]] = []
    for result in results:
        if result.get("ok"):
            order = result.get("order") or {}
            rows.append({"order_id": result["order_id"], "ok": True, "state": order.get("state"),
                         "released": order.get("released")})
            continue
        error = result.get("error") or {}
        now = result.get("order_now")
        rows.append({"order_id": result["order_id"], "ok": False, "code": result.get("code") or error.get("code"),
                     "state_now": now.get("state") if now else None})
    return {"order_ids": [row["order_id"] for row in rows], "results": rows,
            "cancelled": [row["order_id"] for row in rows if row["ok"]],
            "failed": [row["order_id"] for row in rows if not row["ok"]]}


def _lock(fd: int) -> None:
    """Hold the file's lock, waiting at most LOCK_WAIT_SECONDS: a writer stuck elsewhere costs an entry, never
    the cancel that is waiting to be sent."""
    if fcntl is None:
        return
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _ends_a_line(fd: int) -> bool:
    """Whether the file is empty or ends with a newline (under the lock: no other writer is mid-line)."""
    size = os.fstat(fd).st_size
    if size == 0 or not hasattr(os, "pread"):
        return True
    return os.pread(fd, 1, size - 1) == b"\n"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno is not None:
        import errno

        name = errno.errorcode.get(error.errno, str(error.errno))
        return f"{name}: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"
