"""`a-share-orders`: the installed package's one command — `chat` (the default), `trade`, `broker`, `mcp`,
`evals`, `audit` and `--version`.

A composition root that imports a subcommand's part only once it is chosen, so `a-share-orders trade` loads only
the core dependencies (httpx, pydantic, jinja2). Before a subcommand runs, the packages of its extra are looked
up: one that is missing is one line naming the `pip install 'a-share-orders[EXTRA]'` to run, and exit status 9
(EXIT_MISSING_DEPENDENCY), never a traceback. For `trade` and `audit`, whose output a model reads, that line is
also a JSON error on stdout in the command line's shape (`code`, `message`, `recovery_hint`).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from ._version import __version__

PROG = "a-share-orders"
EXIT_USAGE = 2
EXIT_MISSING_DEPENDENCY = 9
# Import names of each extra's packages (pyproject.toml's optional-dependencies; a test keeps them in step).
CORE = ("httpx", "pydantic", "jinja2")
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "table": ("rich",),
    "broker": ("fastapi", "uvicorn"),
    "chat": ("fastapi", "uvicorn", "rich", "anthropic", "opencc", "pypinyin", "rapidfuzz"),
    "mcp": ("mcp",),
    "evals": ("fastapi", "uvicorn", "rich", "anthropic", "opencc", "pypinyin", "rapidfuzz", "yaml"),
}


@dataclass(frozen=True)
class Subcommand:
    extra: str | None  # the extra it needs beyond the core dependencies
    summary: str
    run: Callable[[list[str]], int]


def _chat(argv: list[str]) -> int:
    from .chat import main

    return main(argv)


def _trade(argv: list[str]) -> int:
    from .trade import main

    return main(argv)


def _audit(argv: list[str]) -> int:
    from .trade import main

    return main(["audit", *argv])


def _broker(argv: list[str]) -> int:
    from .broker.__main__ import main

    return main(argv)


def _mcp(argv: list[str]) -> int:
    from .mcp.server import main

    return main(argv)


def _evals(argv: list[str]) -> int:
    from .evals.__main__ import main

    return main(argv)


SUBCOMMANDS: dict[str, Subcommand] = {
    "chat": Subcommand("chat", "talk to the assistant about a demo account on its own paper broker (default)", _chat),
    "trade": Subcommand(None, "the skill's command line: orders, cash, positions, confirmed cancels", _trade),
    "audit": Subcommand(None, "the audit trail of what was cancelled (`trade audit`)", _audit),
    "broker": Subcommand("broker", "serve the paper broker (--demo: a believable account, market always open)",
                         _broker),
    "mcp": Subcommand("mcp", "the MCP server over stdio (TRADING_API_URL, TRADING_API_TOKEN)", _mcp),
    "evals": Subcommand("evals", "score an engine on a scenario suite (`evals run SUITE_DIR`)", _evals),
}
MACHINE_READ = frozenset({"trade", "audit"})  # their stdout is JSON a model reads


def usage() -> str:
    lines = [f"usage: {PROG} [--version] [COMMAND] [ARGS...]", "",
             "A China A-share account in Chinese: orders, cash, positions and confirmed cancels.", "", "commands:"]
    for name, command in SUBCOMMANDS.items():
        extra = f"  [needs {PROG}[{command.extra}]]" if command.extra else ""
        lines.append(f"  {name:<8}{command.summary}{extra}")
    lines += ["", f"With no command, `{PROG}` starts the chat. `{PROG} COMMAND --help` explains each command.",
              f"Exit status {EXIT_MISSING_DEPENDENCY}: the command's extra is not installed (the message names the "
              "pip install to run)."]
    return "\n".join(lines)


def missing_modules(names: tuple[str, ...]) -> list[str]:
    """The top-level modules among `names` that this Python cannot import (looked up, not imported)."""
    def importable(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ImportError:  # a finder that refuses it
            return False

    return [name for name in names if not importable(name)]


def report_missing(command: str, missing: list[str], extra: str | None) -> int:
    """One line on stderr naming the pip install to run (and the JSON error for a machine-read command)."""
    requirement = f"a-share-orders[{extra}]" if extra else "a-share-orders"
    line = (f"{PROG} {command}: missing Python package(s) {', '.join(missing)}; "
            f"install them with: pip install '{requirement}'")
    if command in MACHINE_READ:
        # Not a template (scripts/messages): it is said when packages are missing, so it cannot count on the
        # project's own imports (jinja2 among them), and `cli` imports nothing of the project before this check.
        message = f"缺少运行所需的 Python 包（{'、'.join(missing)}），请先安装：pip install '{requirement}'"
        error = {"code": "DEPENDENCY_MISSING", "recovery_hint": "contact_support", "message": message,
                 "details": {"missing": missing, "install": f"pip install '{requirement}'"}}
        sys.stdout.write(json.dumps({"error": error}, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(line, file=sys.stderr)
    return EXIT_MISSING_DEPENDENCY


def needed_extra(command: str, argv: list[str]) -> str | None:
    if command in MACHINE_READ and "--table" in argv:
        return "table"
    return SUBCOMMANDS[command].extra


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--version"], ["-V"]):
        print(f"{PROG} {__version__}")
        return 0
    if args[:1] in (["--help"], ["-h"], ["help"]):
        print(usage())
        return 0
    if args and not args[0].startswith("-") and args[0] not in SUBCOMMANDS:
        print(f"{usage()}\n\n{PROG}: unknown command {args[0]!r}", file=sys.stderr)
        return EXIT_USAGE
    command, rest = (args[0], args[1:]) if args and args[0] in SUBCOMMANDS else ("chat", args)
    extra = needed_extra(command, rest)
    missing = missing_modules(CORE + EXTRA_MODULES.get(extra or "", ()))
    if missing:
        return report_missing(command, missing, extra if set(missing) - set(CORE) else None)
    try:
        return SUBCOMMANDS[command].run(rest)
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith(f"{__package__}."):
            raise
        # A part this copy does not ship (the skill folder leaves the evaluation harness out).
        print(f"{PROG} {command}: this installation does not include {error.name}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
