#!/usr/bin/env python3
"""Run the a-share-orders skill's commands with any python3 (3.11+), first run included:

    python3 run.py trade orders --status NEW,WORKING      # from the skill folder
    python3 run.py --extra mcp mcp                         # the MCP server (its extra is chosen by default too)

Standard library only, and nothing of the project: it chooses the Python that runs the command, then hands over.

- When this Python can already import what the command needs (pyproject.toml's dependencies, plus the command's
  extra: `mcp` for `mcp`, `chat` for `chat`, `table` for `--table` ...), the command runs on it directly.
- Otherwise it prepares a private environment once, in the user's cache directory (XDG_CACHE_HOME or ~/.cache,
  ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows), under a name made from a hash of the requirements and
  of this Python, so an upgrade that changes them builds a new one. It uses `uv` when it is on PATH, else
  `venv` and pip; nothing is installed into this Python, so an externally managed one (PEP 668) is fine. A
  lock keeps two first runs from building it at once.
- The command then runs there as `python -m scripts.cli COMMAND ARGS...` with this folder on the import path:
  stdin, stdout and the exit status are the command's own.

When the environment cannot be prepared (no network, no venv module — Debian without python3-venv —, a Python
older than 3.11), stdout gets one JSON line in the command line's error shape, `{"error": {"code", "message",
"recovery_hint", "details"}}`, and the exit status is 9; nothing was sent to the trading API. Progress and
the installer's output go to stderr, never to stdout (which the MCP server's protocol uses).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

SKILL_DIR = Path(__file__).resolve().parent
PROJECT = "a-share-orders"
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 9  # the environment could not be prepared: nothing was sent
MINIMUM_PYTHON = (3, 11)
# The extra each command needs beyond the core dependencies (scripts/cli.py says the same from the inside).
COMMAND_EXTRAS = {"trade": None, "audit": None, "chat": "chat", "broker": "broker", "mcp": "mcp", "evals": "evals"}
LOCK_WAIT_SECONDS = 900  # another first run may be downloading on a slow line
INSTALL_LOG_CHARS = 1500


class BootstrapError(Exception):
    """The private environment could not be prepared; carries the JSON error's fields."""

    def __init__(self, code: str, message: str, recovery_hint: str, **details: object) -> None:
        super().__init__(message)
        self.code, self.message, self.recovery_hint, self.details = code, message, recovery_hint, details


def fail(error: BootstrapError) -> int:
    body = {"code": error.code, "message": error.message, "recovery_hint": error.recovery_hint,
            "details": error.details}
    sys.stdout.write(json.dumps({"error": body}, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    print(f"{PROJECT}: {error.code}: the skill's Python environment could not be prepared "
          f"({error.details.get('reason', error.code)})", file=sys.stderr)
    return EXIT_ENVIRONMENT


# --- what the command needs ---------------------------------------------------------------------------------

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)")
CLAUSE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([0-9][0-9a-zA-Z.*+!-]*)\s*$")


def requirements(extras: list[str]) -> list[str]:
    """pyproject.toml's dependencies plus those of `extras` (self-references like `a-share-orders[chat]` followed)."""
    import tomllib

    try:
        project = tomllib.loads((SKILL_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    except (OSError, ValueError, KeyError) as error:
        raise BootstrapError("BOOTSTRAP_FAILED", "技能文件夹不完整（缺少 pyproject.toml），无法确定所需的 Python 包。"
                             "请重新安装本技能。本次没有向交易接口发送任何请求。", "contact_support",
                             reason=f"pyproject.toml unreadable: {error}") from error
    optional = project.get("optional-dependencies", {})
    found: list[str] = list(project.get("dependencies", []))
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in optional:
            raise BootstrapError("BOOTSTRAP_FAILED", f"未知的可选组件 {extra}。", "fix_input",
                                 reason=f"unknown extra {extra!r}; known: {', '.join(sorted(optional))}")
        for requirement in optional[extra]:
            match = REQUIREMENT.match(requirement)
            if match and _normal(match.group(1)) == _normal(PROJECT):
                pending += [name.strip() for name in (match.group(2) or "[]")[1:-1].split(",") if name.strip()]
            else:
                found.append(requirement)
    return sorted(set(found))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _release(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def _compare(installed: str, operator: str, wanted: str) -> bool:
    if "*" in wanted or operator in {"~=", "==="}:
        return False  # not needed by this project: let the installer decide in a private environment
    have, want = _release(installed), _release(wanted)
    width = max(len(have), len(want))
    have, want = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
    return {"==": have == want, "!=": have != want, "<=": have <= want, ">=": have >= want,
            "<": have < want, ">": have > want}[operator]


def satisfied(requirement: str) -> bool:
    """Whether this Python has the requirement installed in a version it accepts (simple specifiers only)."""
    from importlib import metadata

    match = REQUIREMENT.match(requirement)
    if not match:
        return False
    try:
        installed = metadata.version(match.group(1))
    except metadata.PackageNotFoundError:
        return False
    clauses = [clause for clause in match.group(3).split(",") if clause.strip()]
    for clause in clauses:
        parsed = CLAUSE.match(clause)
        if not parsed or not _compare(installed, parsed.group(1), parsed.group(2)):
            return False
    return True


# --- the private environment ---------------------------------------------------------------------------------


def cache_root() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif os.environ.get("XDG_CACHE_HOME"):
        base = os.environ["XDG_CACHE_HOME"]
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = str(Path.home() / ".cache")
    return Path(base) / PROJECT / "envs"


def environment_key(wanted: list[str]) -> str:
    """Changes with the requirements and with the Python the environment is made from."""
    identity = {"requirements": wanted, "python": list(sys.version_info[:2]),
                "executable": os.path.realpath(sys.executable)}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def environment_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


class FileLock:
    """An exclusive lock on a file, held across processes (flock on POSIX, msvcrt on Windows)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+b")  # held until __exit__
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                self._acquire()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.handle.close()
                    raise
                time.sleep(0.5)

    def _acquire(self) -> None:
        if sys.platform == "win32":
            import msvcrt

            self.handle.seek(0)
            msvcrt.locking(self.handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def __exit__(self, *exc: object) -> None:
        if sys.platform == "win32":
            import msvcrt

            self.handle.seek(0)
            msvcrt.locking(self.handle.fileno(), msvcrt.LK_UNLCK, 1)
        self.handle.close()  # closing releases a flock


def _run(step: str, command: list[str]) -> None:
    # Its own session: a client that gives up on a slow first start (an MCP client's start-up timeout) and
    # signals the group does not cut the installer off halfway.
    result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, check=False, start_new_session=sys.platform != "win32")
    sys.stderr.write(result.stdout)
    if result.returncode != 0:
        raise BootstrapError("", "", "", step=step, log=result.stdout[-INSTALL_LOG_CHARS:],
                             command=" ".join(command[:3]))


def _create(env: Path, wanted: list[str]) -> None:
    python = environment_python(env)
    uv = shutil.which("uv")
    if uv:
        _run("venv", [uv, "venv", "--quiet", "--python", sys.executable, str(env)])
        _run("install", [uv, "pip", "install", "--quiet", "--python", str(python), *wanted])
        return
    try:
        import venv
    except ImportError as error:  # some distributions split it off
        raise BootstrapError("", "", "", step="venv", log=str(error)) from error
    try:
        venv.EnvBuilder(with_pip=True).create(env)
    except (subprocess.CalledProcessError, OSError) as error:  # Debian without python3-venv: no ensurepip
        raise BootstrapError("", "", "", step="venv", log=str(error)) from error
    _run("install", [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                     "--no-input", "--retries", "1", *wanted])


class _uninterrupted:  # noqa: N801 - used as a statement: `with _uninterrupted():`
    """SIGTERM and SIGHUP wait until the environment is built: an MCP client that times out on the first start
    (building takes longer than its start-up timeout) must not leave a half-built environment that the next
    start removes and rebuilds, forever. Ctrl-C still stops it; the next run then starts over."""

    SIGNALS = ("SIGTERM", "SIGHUP")

    def __enter__(self) -> None:
        import signal

        self.saved = {name: signal.signal(getattr(signal, name), signal.SIG_IGN)
                      for name in self.SIGNALS if hasattr(signal, name)}

    def __exit__(self, *exc: object) -> None:
        import signal

        for name, handler in self.saved.items():
            signal.signal(getattr(signal, name), handler)


def prepared_environment(wanted: list[str]) -> Path:
    """The Python of the private environment for `wanted`, built first if there is none yet."""
    root = cache_root()
    key = environment_key(wanted)
    env, ready = root / key, root / key / ".ready"
    python = environment_python(env)
    if ready.is_file() and python.exists():  # (a Python removed under it: built again)
        return python
    try:
        with FileLock(root / f"{key}.lock"):
            if ready.is_file() and python.exists():  # another first run built it while this one waited
                return python
            print(f"{PROJECT}: first run: preparing its Python environment in {env} ({', '.join(wanted)}); "
                  "this takes a minute once", file=sys.stderr)
            if env.exists():
                shutil.rmtree(env)  # left half-built by an interrupted run
            with _uninterrupted():
                try:
                    _create(env, wanted)
                except BootstrapError as failure:
                    shutil.rmtree(env, ignore_errors=True)
                    raise _explained(failure, wanted, env) from None
                ready.write_text(json.dumps({"requirements": wanted}), encoding="utf-8")
    except OSError as error:
        raise BootstrapError("BOOTSTRAP_FAILED",
                             f"无法在缓存目录 {root} 中准备 Python 环境（{error.strerror or error}）。"
                             "请检查该目录的权限和磁盘空间。本次没有向交易接口发送任何请求。", "contact_support",
                             step="cache", reason=str(error)) from error
    return environment_python(env)


def _explained(failure: BootstrapError, wanted: list[str], env: Path) -> BootstrapError:
    details = {**failure.details, "environment": str(env), "requirements": wanted}
    if failure.details.get("step") == "venv":
        return BootstrapError(
            "BOOTSTRAP_FAILED",
            "无法创建独立的 Python 环境：这台电脑的 python3 缺少 venv/ensurepip 模块（Debian/Ubuntu 请安装 "
            "python3-venv，或安装 uv）。本次没有向交易接口发送任何请求。", "contact_support",
            reason="this python3 cannot create a virtual environment (install python3-venv, or uv)", **details)
    return BootstrapError(
        "BOOTSTRAP_FAILED",
        f"首次运行需要下载所需的 Python 包（{'、'.join(_names(wanted))}），但安装失败，"
        "可能是没有网络或无法访问软件包源。请稍后重试。本次没有向交易接口发送任何请求。", "retry_later",
        reason="installing the dependencies failed (network or package index unreachable?)", **details)


def _names(wanted: list[str]) -> list[str]:
    return [match.group(1) for match in map(REQUIREMENT.match, wanted) if match]


# --- the command line -----------------------------------------------------------------------------------------


USAGE = f"""usage: python3 run.py [--extra EXTRA]... COMMAND [ARGS...]

Runs `{PROJECT} COMMAND ARGS...` from this skill folder on a Python that has what the command needs: this
one when it can, else a private environment prepared once in the user's cache directory.

commands: {", ".join(COMMAND_EXTRAS)}   (e.g. `python3 run.py trade orders --status NEW,WORKING`)
--extra EXTRA   also install an extra of pyproject.toml (each command's own is chosen for it)
Exit status: the command's own; {EXIT_ENVIRONMENT} when the environment could not be prepared (one JSON line on
stdout says why); {EXIT_USAGE} for a usage error of this launcher."""


def parse(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """(extras, command line for scripts.cli), or None for a usage error."""
    extras: list[str] = []
    while argv and argv[0].startswith("--extra"):
        if argv[0] == "--extra" and len(argv) > 1:
            extras.append(argv[1])
            argv = argv[2:]
        elif argv[0].startswith("--extra="):
            extras.append(argv[0].split("=", 1)[1])
            argv = argv[1:]
        else:
            return None
    if not argv:
        return None
    if argv[0] in COMMAND_EXTRAS:
        own = COMMAND_EXTRAS[argv[0]]
        if own:
            extras.append(own)
        if argv[0] in {"trade", "audit"} and "--table" in argv:
            extras.append("table")
    elif argv[0] not in {"--version", "-V"}:
        return None
    return sorted(set(extras)), argv


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if sys.version_info < MINIMUM_PYTHON:
        return fail(BootstrapError(
            "BOOTSTRAP_FAILED", f"本技能需要 Python 3.11 或更高版本，当前是 {sys.version.split()[0]}。请安装较新的 "
            "Python 后重试。本次没有向交易接口发送任何请求。", "contact_support",
            reason=f"Python {sys.version.split()[0]} is older than 3.11"))
    parsed = parse(argv)
    if parsed is None:
        print(f"{USAGE}\n\nrun.py: give a command", file=sys.stderr)
        return EXIT_USAGE
    extras, command = parsed
    try:
        wanted = requirements(extras)
        python = Path(sys.executable) if all(map(satisfied, wanted)) else prepared_environment(wanted)
    except BootstrapError as error:
        return fail(error)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SKILL_DIR), os.environ.get("PYTHONPATH")]))}
    # -P: the working directory's own `scripts` (if any) must not stand in for the skill's.
    line = [str(python), "-P", "-m", "scripts.cli", *command]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if sys.platform == "win32":  # no real exec there: wait, and pass the exit status on
            return subprocess.call(line, env=env)
        os.execve(line[0], line, env)
    except OSError as error:
        return fail(BootstrapError("BOOTSTRAP_FAILED", f"无法启动技能的 Python（{python}）。请重试；若仍失败，删除 "
                                   f"{cache_root()} 后再试。本次没有向交易接口发送任何请求。", "contact_support",
                                   reason=f"could not start {python}: {error}"))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
