"""Benchmark the main job's start-up: `python3 dev.py run` from launch to the banner and to the first reply.

    .venv/bin/python bench/startup.py [--runs N]

Each run starts a fresh process with one line of piped input ("可用资金还有多少") and times two moments: the
banner (piped, the chat writes it to stderr once the broker has answered its first question, the account's kind:
from here it reads input), and the reply's first line on stdout. Three commands, interleaved run by run so that
the machine's load touches each alike:

- `python -c pass`: the interpreter alone (the floor no Python program goes under);
- `python -m scripts.chat`: the chat itself, the embedded demo broker included;
- `python3 dev.py run`: the README's command (it checks `.venv` is current, then starts the chat).

The first run of each is a warm-up and not counted ("after the first run": the demo database created and the
byte code written; PYTHONDONTWRITEBYTECODE is removed from the runs' environment, as on a user's machine,
or every run would compile the project's modules again). Prints the medians and p90s in milliseconds and each
median's ratio to the interpreter's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "可用资金还有多少\n"


BANNER = "A 股委托助手"  # the banner's first words (chat.banner), on stderr when the input is piped


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the banner, seconds to the reply's first line) of `command` fed QUESTION; the interpreter
    alone has no banner: its first is the time to its line."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, encoding="utf-8")
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdin.write(QUESTION)
    process.stdin.close()
    ready = None
    if "-c" not in command:
        for line in process.stderr:  # a few lines: the engine, then the banner
            if line.startswith(BANNER):
                ready = time.perf_counter() - started
                break
    process.stdout.readline()
    first = time.perf_counter() - started
    process.stdout.read()
    errors = process.stderr.read()
    if process.wait() != 0 or (ready is None and "-c" not in command):
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}: {errors[-500:]}")
    return (first if ready is None else ready), first


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="counted runs per command (default: 10)")
    options = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}  # offline engine
    for name in ("TRADING_READ_ONLY", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["TRADING_AUDIT_LOG"] = "off"
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "demo.db")
        commands = {
            "python -c pass": [sys.executable, "-c", "print('ok')"],
            "python -m scripts.chat": [sys.executable, "-m", "scripts.chat", "--db", db],
            "python3 dev.py run": [sys.executable, str(ROOT / "dev.py"), "run", "--db", db],
        }
        readies: dict[str, list[float]] = {name: [] for name in commands}
        firsts: dict[str, list[float]] = {name: [] for name in commands}
        for run in range(options.runs + 1):
            for name, command in commands.items():
                ready, first = timed(command, env)
                if run:
                    readies[name].append(ready)
                    firsts[name].append(first)
    floor = statistics.median(firsts["python -c pass"])
    print(f"start-up, {options.runs} runs each after one warm-up (load: {os.getloadavg()[0]:.2f}); milliseconds")
    print(f"  {'':<24} {'banner: median':>14} {'p90':>6}   {'first reply: median':>19} {'p90':>6}   ratio")
    for name in commands:
        ready, first = readies[name], firsts[name]
        print(f"  {name:<24} {statistics.median(ready) * 1000:14.0f} {p90(ready) * 1000:6.0f}   "
              f"{statistics.median(first) * 1000:19.0f} {p90(first) * 1000:6.0f}   "
              f"{statistics.median(first) / floor:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
