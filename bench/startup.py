"""Benchmark the main job's start-up: `python3 dev.py run` from launch to the assistant's first reply.

    .venv/bin/python bench/startup.py [--runs N]

Each run starts a fresh process with one line of piped input ("可用资金还有多少") and times how long until the
reply's first line reaches stdout, then until the process exits. Three commands, interleaved run by run so
that the machine's load touches each alike:

- `python -c pass`: the interpreter alone (the floor no Python program goes under);
- `python -m scripts.chat`: the chat itself, the embedded demo broker included;
- `python3 dev.py run`: the README's command (it checks `.venv` is current, then starts the chat).

The first run of each is a warm-up and not counted ("after the first run": byte code compiled, the demo
database created). Prints the median and p90 in milliseconds and each median's ratio to the interpreter's.
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


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first line on stdout, seconds to exit) of `command` fed QUESTION."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(QUESTION)
    process.stdin.close()
    process.stdout.readline()
    first = time.perf_counter() - started
    process.stdout.read()
    if process.wait() != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    return first, time.perf_counter() - started


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="counted runs per command (default: 10)")
    options = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}  # offline engine
    env.pop("TRADING_READ_ONLY", None)
    env["TRADING_AUDIT_LOG"] = "off"
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "demo.db")
        commands = {
            "python -c pass": [sys.executable, "-c", "print('ok')"],
            "python -m scripts.chat": [sys.executable, "-m", "scripts.chat", "--db", db],
            "python3 dev.py run": [sys.executable, str(ROOT / "dev.py"), "run", "--db", db],
        }
        firsts: dict[str, list[float]] = {name: [] for name in commands}
        for run in range(options.runs + 1):
            for name, command in commands.items():
                first, _ = timed(command, env)
                if run:
                    firsts[name].append(first)
    floor = statistics.median(firsts["python -c pass"])
    print(f"start-up to the first reply, {options.runs} runs each after one warm-up (load: {os.getloadavg()[0]:.2f})")
    for name, values in firsts.items():
        median = statistics.median(values)
        print(f"  {name:<24} median {median * 1000:7.1f} ms   p90 {p90(values) * 1000:7.1f} ms   "
              f"{median / floor:5.1f}x the interpreter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
