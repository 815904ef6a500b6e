"""The evaluation harness: scenario suites (`docs/scenarios.md`) run against an engine, graded on the broker's
final state and request log, τ-bench style. Run it with `python -m scripts.evals run SUITE_DIR`."""

from .graders import GRADERS, Failure, RunRecord, grade
from .report import build_report, pass_hat_k, write_report
from .runner import RunOptions, run_suite, run_trial
from .suite import Scenario, Suite, SuiteProblem, load_suite

__all__ = [
    "GRADERS",
    "Failure",
    "RunOptions",
    "RunRecord",
    "Scenario",
    "Suite",
    "SuiteProblem",
    "build_report",
    "grade",
    "load_suite",
    "pass_hat_k",
    "run_suite",
    "run_trial",
    "write_report",
]
