"""`python -m scripts.evals run SUITE_DIR`: score an engine on a scenario suite (see --help).

Exit status: 0 when it ran (whatever the score); 2 when the suite has malformed scenarios (each named by
file, scenario and field; the valid ones still run and are reported).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .report import SUMMARY_COLUMNS, build_report, summary_rows, write_report
from .runner import RunOptions, run_suite
from .suite import SuiteProblem, load_suite

PIPED_WIDTH = 160  # a log or CI has no terminal to fit: keep tag names whole
EXIT_OK = 0
EXIT_MALFORMED = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.evals", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a suite and write report.json and report.md")
    run.add_argument("suite", type=Path, help="a folder of scenario YAML files (or one file)")
    run.add_argument("--engine", choices=["offline", "claude"], default="offline")
    run.add_argument("--trials", type=int, default=1, help="independent runs of each scenario (for pass^k)")
    run.add_argument("--concurrency", type=int, default=2, help="worlds at a time, each with its own broker")
    run.add_argument("--tags", help="only scenarios with one of these tags (comma list)")
    run.add_argument("--out", type=Path, default=Path("evals/reports/latest"), help="where the reports go")
    run.add_argument("--user", choices=["scripted", "claude"], default="scripted",
                     help="who plays the user: the scenario's script, or Claude from it as a persona (needs a key)")
    run.add_argument("--model", help="Claude model (default: ANTHROPIC_MODEL or the engine's default)")
    args = parser.parse_args(argv)
    if args.model and args.engine != "claude":
        parser.error("--model applies to the claude engine only")  # the offline engine takes no options
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console(stderr=True)
    tags = {tag.strip() for tag in args.tags.split(",")} if args.tags else None
    suite = load_suite(args.suite, tags)
    for problem in suite.problems:
        console.print(f"[red]malformed:[/red] {problem}")
    options = RunOptions(engine=args.engine, user=args.user, trials=max(1, args.trials),
                         concurrency=max(1, args.concurrency),
                         engine_options={"model": args.model} if args.model else {})
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task(f"{args.engine} on {args.suite}", total=len(suite.scenarios) * options.trials)
        runs = run_suite(suite.scenarios, options, on_done=lambda _: progress.advance(task))
    problems = suite.problems + [SuiteProblem(run.scenario.source, run.scenario.id, "world", run.error)
                                 for run in runs if run.error and run.error.startswith("the broker refused")]
    report = build_report(runs, problems, args.engine, options.trials, time.perf_counter() - started)
    json_path, md_path = write_report(report, args.out)

    summary = report["summary"]
    k = str(options.trials)
    table = Table(title=f"{args.engine}: {summary['scenarios']} scenarios × {options.trials} trials")
    table.add_column("")
    for _, header in SUMMARY_COLUMNS:
        table.add_column(header, justify="right")
    table.add_column(f"pass^{k}", justify="right")
    for label, totals in summary_rows(summary):
        table.add_row(label, *(str(totals[key]) for key, _ in SUMMARY_COLUMNS), str(totals["pass_hat_k"].get(k)))
    Console(width=None if sys.stdout.isatty() else PIPED_WIDTH).print(table)
    console.print(f"critical failures: {summary['critical']} · malformed: {summary['malformed']} · "
                  f"{summary['wall_seconds']} s · reports: {json_path}, {md_path}")
    return EXIT_MALFORMED if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
