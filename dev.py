#!/usr/bin/env python3
"""The project's two commands, on any machine with Python 3.11+: `python3 dev.py run` and `python3 dev.py test`.

On first use (and whenever pyproject.toml changes) it creates `.venv` and installs the project with its
development extras; then it runs the command inside that environment. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-pyproject-sha256"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment() -> None:
    """Create or refresh `.venv` when pyproject.toml differs from what was last installed."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        import venv  # only on first use: the main job's start-up does not pay for it

        print("Creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the project and its development tools into .venv ...", file=sys.stderr)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", ".[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def run_main_job(extra: list[str]) -> int:
    """The main job: a chat with the assistant about a demo account on the embedded paper broker."""
    command = [str(PYTHON), "-m", "scripts.chat", *extra]
    if os.name == "posix":  # become the chat: its exit status, signals and terminal are the user's directly
        os.chdir(ROOT)
        os.execv(command[0], command)
    return subprocess.call(command, cwd=ROOT)


def run_tests(extra: list[str]) -> int:
    """Lint, then the whole test suite against real brokers over real HTTP."""
    lint = subprocess.call([str(BIN / "ruff"), "check", "."], cwd=ROOT)
    tests = subprocess.call([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT)
    return lint or tests


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "test", "setup"],
                        help="run: the chat (main job); test: ruff and pytest; setup: only prepare .venv")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed on to the command (e.g. pytest options)")
    options = parser.parse_args()
    ensure_environment()
    if options.command == "run":
        return run_main_job(options.args)
    if options.command == "test":
        return run_tests(options.args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
