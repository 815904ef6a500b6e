"""`python -m scripts.chat`: talk to the assistant about a demo A-share account in a terminal.

A composition root: it starts the paper broker in demo mode (its database persists in `.broker/demo.db`
between runs; `--fresh` starts over) and builds the assistant beside it. Claude answers when
ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL) is set, the offline engine otherwise. Piped input works too:
`printf '撤掉刚才那单\\n确认\\n' | python -m scripts.chat` prints one reply per line of input.
`--read-only` (or TRADING_READ_ONLY=1) gives the assistant no write tool: nothing can be cancelled.
Every preview shown, every answer to one and every cancel go to the audit file (TRADING_AUDIT_LOG; one
session id per run; `python -m scripts.trade audit --table` shows them).

While the assistant works, a status line names each step (查询委托…, 预览撤单…). The reply appears whole once
the turn ends rather than streamed: the model's words are checked against what the turn did (the preview
appended, other orders' sentences dropped, a false claim corrected) before anyone may read them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # imported in main(), once the broker is starting beside (see demo_broker)
    from .assistant import Assistant, Reply

ROOT = Path(__file__).resolve().parent.parent
BROKER_START_SECONDS = 30.0
STARTING_CODES = {"NETWORK_ERROR"}  # what the Client says of a broker that is not serving yet
T = TypeVar("T")


def default_db() -> Path:
    """Where the demo account persists: `.broker/` in a checkout or skill folder; from an installed package
    (whose folder may not be writable, and is no place for a user's data) the user's state directory."""
    if (ROOT / "SKILL.md").is_file():
        return ROOT / ".broker" / "demo.db"
    from .audit import user_folder  # only from an installed package: a checkout starts without it

    return user_folder("state") / "demo.db"


DEFAULT_DB = default_db()
QUIT_WORDS = {"/quit", "/exit", "退出", "再见", "quit", "exit"}
EXAMPLES = "撤掉刚才那单 · 把茅台那笔买单撤了 · 全部撤掉 · 可用资金还有多少 · 看看持仓 · 我有哪些委托"


def choose_engine(requested: str | None) -> str:
    if requested:
        return requested
    return "claude" if os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_BASE_URL") else "offline"


class DemoBroker:
    """The chat's paper broker: where it answers, its token, and (POSIX) the child process serving it.

    A plain class, not a dataclass: everything this module imports is paid before the broker is spawned."""

    def __init__(self, url: str, token: str, process: subprocess.Popen[bytes] | None = None) -> None:
        self.url = url
        self.token = token
        self.process = process

    def first_answer(self, first_request: Callable[[], T]) -> T:
        """The answer to the session's first request, sent while the broker may still be starting: the socket is
        already listening, so the request waits in its backlog until the broker accepts it (no separate probe
        pays the broker's first-request costs). BrokerExitedError if the broker ended (a database it cannot
        open: its own words are on stderr) or did not serve within BROKER_START_SECONDS."""
        from ._http import ApiError

        deadline = time.monotonic() + BROKER_START_SECONDS
        while True:
            try:
                return first_request()
            except ApiError as error:
                if self.process is None or error.code not in STARTING_CODES:
                    raise
                if self.process.poll() is not None:
                    raise BrokerExitedError(f"the paper broker exited with status {self.process.returncode}") from None
                if time.monotonic() > deadline:
                    raise BrokerExitedError("the paper broker did not start") from None


class BrokerExitedError(RuntimeError):
    """The demo broker ended, or never answered, before it served."""


@contextlib.contextmanager
def demo_broker(db: Path, fresh: bool) -> Iterator[DemoBroker]:
    """A demo broker on a free port. The token lives only in this process and its broker's environment.

    On POSIX the broker is a child process serving a socket bound here, so that it imports and starts on the
    other core while this process loads the assistant: the chat starts in the slower of the two times, not in
    their sum. It ends when this process closes its stdin, killed or not. Elsewhere it runs in a thread."""
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    if os.name != "posix":
        from .broker import BrokerSettings, running_broker

        with running_broker(BrokerSettings(db=str(db), token=token, demo=True)) as url:
            yield DemoBroker(url, token)
        return
    # IPPROTO_TCP, as in running_broker: asyncio sets TCP_NODELAY only on sockets whose proto says TCP.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    with listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)  # a request waits here until the broker accepts it
        port = listener.getsockname()[1]
        command = [sys.executable, "-m", f"{__package__}.broker", "--demo", "--db", str(db), "--host",
                   "127.0.0.1", "--port", str(port), "--fd", str(listener.fileno()), "--exit-with-parent"]
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "TRADING_API_TOKEN": token},
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(listener.fileno(),))
    try:
        yield DemoBroker(f"http://127.0.0.1:{port}", token, process)
    finally:
        assert process.stdin is not None
        process.stdin.close()  # the broker's signal to stop (its exit_at_end_of_stdin)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def banner(assistant: Assistant, engine: str) -> str:
    """The banner's first line: the engine and the account's kind as the broker says it (never assumed)."""
    from ._http import ApiError
    from .messages import environment_label

    try:
        kind = environment_label(assistant.tools.environment())
    except ApiError:
        kind = environment_label(None)
    mode = " · 只读模式（不能撤单）" if assistant.tools.read_only else ""
    return f"A 股委托助手（{'Claude' if engine == 'claude' else '离线规则引擎'}）· {kind}{mode}"


def interactive(assistant: Assistant, engine: str) -> None:
    from rich.console import Console
    from rich.panel import Panel

    from .messages import render

    console = Console()
    console.print(Panel.fit(f"{banner(assistant, engine)}\n试试：{EXAMPLES}\n输入“退出”结束。", border_style="cyan"))
    while True:
        try:
            text = console.input("[bold green]你：[/bold green]").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            return
        with console.status(render("tool_progress", tool="thinking"), spinner="dots") as status:
            assistant.tools.on_call = lambda tool: status.update(render("tool_progress", tool=tool))
            try:
                reply = assistant.send(text)
            finally:
                assistant.tools.on_call = None
        words, preview = split_preview(reply)
        if words:
            console.print(Panel(words, title="助手", title_align="left", border_style="blue"))
        if preview:
            # The preview the user confirms stands apart, as the project rendered it.
            console.print(Panel(preview, title="待确认的撤单", title_align="left", border_style="yellow"))


def split_preview(reply: Reply) -> tuple[str, str]:
    """The reply's words and, when a cancel awaits a yes, the preview it ends with (as rendered)."""
    if reply.pending is None or not reply.text.rstrip().endswith(reply.pending.text.strip()):
        return reply.text, ""
    words = reply.text.rstrip()[: -len(reply.pending.text.strip())].rstrip()
    return words, reply.pending.text.strip()


def piped(assistant: Assistant, lines: Iterator[str]) -> None:
    for line in lines:
        text = line.strip()
        if not text:
            continue
        reply: Reply = assistant.send(text)
        print(reply.text, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.chat", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["offline", "claude"], help="default: claude when a key is set")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"demo database (default: {DEFAULT_DB})")
    parser.add_argument("--fresh", action="store_true", help="start the demo account over")
    parser.add_argument("--model", help="Claude model (default: ANTHROPIC_MODEL or the engine's default)")
    parser.add_argument("--timeout", type=float, help="seconds one Claude call may take, retries included (60)")
    parser.add_argument("--read-only", action="store_true",
                        help="nothing can be cancelled: the assistant has no write tool (also TRADING_READ_ONLY=1)")
    args = parser.parse_args(argv)
    engine = choose_engine(args.engine)
    print(f"Engine: {engine}" + ("" if engine == "claude" else " (set ANTHROPIC_API_KEY to talk to Claude)"),
          file=sys.stderr)
    with demo_broker(args.db, args.fresh) as broker:
        from ._startup import import_httpx_without_its_cli

        import_httpx_without_its_cli()  # the chat never uses httpx's own command-line tool
        from ._http import ApiError, Client, read_only_from_env  # loaded while the broker starts
        from .assistant import Assistant
        from .audit import AuditLog

        read_only = args.read_only or read_only_from_env()
        options = {name: value for name, value in (("model", args.model), ("timeout", args.timeout))
                   if value is not None and engine == "claude"}
        # One session per run; the demo broker's token is made here, so the log is told to keep it out.
        audit = AuditLog.from_env(face="chat", secrets=[broker.token])
        with Client(base_url=broker.url, token=broker.token) as client:
            # Everything that sends no request is done while the broker starts; then wait for it.
            assistant = Assistant(client, engine=engine, read_only=read_only, audit=audit, **options)
            assistant.prepare()
            try:  # the banner's question (the account's kind) is the first request: it waits for the broker
                broker.first_answer(assistant.tools.environment)
            except BrokerExitedError as error:
                print(f"chat: {error}", file=sys.stderr)
                return 1
            except ApiError:
                pass  # the banner says 账户类型未知; the conversation's own requests will say what is wrong
            if broker.process is None:  # a child broker says where it serves itself
                print(f"Paper broker (demo account) at {broker.url}, database {args.db}", file=sys.stderr)
            if sys.stdin.isatty():
                interactive(assistant, engine)
            else:
                print(banner(assistant, engine), file=sys.stderr)  # stdout keeps one reply per line of input
                piped(assistant, iter(sys.stdin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
