"""Summaries and reports: pass rate, pass^k, critical failures, by tag; `report.json` and `report.md`."""

from __future__ import annotations

import json
from collections import defaultdict
from math import comb
from pathlib import Path
from typing import Any

from .graders import Failure, RunRecord, grade
from .suite import SuiteProblem


def pass_hat_k(outcomes: dict[str, list[bool]], k: int) -> float:
    """τ-bench's pass^k: the mean over scenarios of C(c, k) / C(n, k) (n trials, c passed)."""
    values = [comb(sum(runs), k) / comb(len(runs), k) for runs in outcomes.values() if len(runs) >= k]
    return sum(values) / len(values) if values else 0.0


def result_entry(run: RunRecord, failures: list[Failure]) -> dict[str, Any]:
    return {
        "id": run.scenario.id,
        "trial": run.trial,
        "source": run.scenario.source,
        "tags": run.scenario.tags,
        "passed": not failures,
        "critical": any(failure.critical for failure in failures),
        "failures": [{"grader": f.grader, "critical": f.critical, "message": f.message} for f in failures],
        "transcript": [{"turn": e["turn"], "role": e["role"], "text": e["text"]} for e in run.transcript],
        "questions": [e.get("question") for e in run.transcript if e["role"] == "assistant"],
        "requests": [{key: entry.get(key) for key in ("turn", "method", "path", "query", "status", "code",
                                                       "order_ids")} for entry in run.requests],
        "orders": {ref: {"order_id": order_id, "state_before": run.before.get(order_id, {}).get("state"),
                         "state_after": run.after.get(order_id, {}).get("state")}
                   for ref, order_id in run.refs.items()},
        "seconds": round(run.seconds, 3),
        "model_calls": run.model_calls,
        "input_tokens": run.input_tokens,
        "uncached_input_tokens": run.uncached_input_tokens,
        "cache_write_tokens": run.cache_write_tokens,
        "cache_read_tokens": run.cache_read_tokens,
        "output_tokens": run.output_tokens,
    }


def _totals(entries: list[dict[str, Any]], trials: int) -> dict[str, Any]:
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for entry in entries:
        outcomes[entry["id"]].append(entry["passed"])
    runs = len(entries) or 1
    return {
        "scenarios": len(outcomes),
        "runs": len(entries),
        "passed": sum(entry["passed"] for entry in entries),
        "pass_rate": round(sum(entry["passed"] for entry in entries) / runs, 4),
        "pass_hat_k": {str(k): round(pass_hat_k(outcomes, k), 4) for k in range(1, trials + 1)},
        "critical": sum(entry["critical"] for entry in entries),
        "avg_questions": round(sum(sum(q is not None for q in e["questions"]) for e in entries) / runs, 2),
        "avg_requests": round(sum(len(entry["requests"]) for entry in entries) / runs, 2),
        "avg_model_calls": round(sum(entry["model_calls"] for entry in entries) / runs, 2),
        # Input apart: read afresh, written to the prompt cache, read from it (their sum is avg_input_tokens).
        "avg_input_tokens": round(sum(entry["input_tokens"] for entry in entries) / runs, 1),
        "avg_uncached_input_tokens": round(sum(entry["uncached_input_tokens"] for entry in entries) / runs, 1),
        "avg_cache_write_tokens": round(sum(entry["cache_write_tokens"] for entry in entries) / runs, 1),
        "avg_cache_read_tokens": round(sum(entry["cache_read_tokens"] for entry in entries) / runs, 1),
        "avg_output_tokens": round(sum(entry["output_tokens"] for entry in entries) / runs, 1),
        "avg_seconds": round(sum(entry["seconds"] for entry in entries) / runs, 3),
    }


def build_report(runs: list[RunRecord], problems: list[SuiteProblem], engine: str, trials: int,
                 wall_seconds: float) -> dict[str, Any]:
    entries = [result_entry(run, grade(run)) for run in runs]
    by_tag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        for tag in entry["tags"] or ["(untagged)"]:
            by_tag[tag].append(entry)
    summary = {
        "engine": engine,
        "trials": trials,
        **_totals(entries, trials),
        "malformed": len(problems),
        "wall_seconds": round(wall_seconds, 2),
        "by_tag": {tag: _totals(items, trials) for tag, items in sorted(by_tag.items())},
    }
    return {"summary": summary, "problems": [str(problem) for problem in problems], "results": entries}


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path


SUMMARY_COLUMNS = [("scenarios", "scenarios"), ("pass_rate", "pass rate"), ("critical", "critical"),
                   ("avg_questions", "questions"), ("avg_requests", "HTTP requests"),
                   ("avg_model_calls", "model calls"), ("avg_uncached_input_tokens", "uncached input"),
                   ("avg_cache_write_tokens", "cache writes"), ("avg_cache_read_tokens", "cache reads"),
                   ("avg_output_tokens", "output tokens"), ("avg_seconds", "s/run")]


SPEAKERS = {"user": "用户", "assistant": "助手"}


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [*((f"tag: {tag}", totals) for tag, totals in summary["by_tag"].items()), ("TOTAL", summary)]


def markdown(report: dict[str, Any]) -> str:
    summary = report["summary"]
    k = str(summary["trials"])
    lines = [f"# Evaluation report: {summary['engine']} engine",
             "",
             f"{summary['scenarios']} scenarios × {summary['trials']} trials: pass rate {summary['pass_rate']:.2%}, "
             f"pass^{k} {summary['pass_hat_k'][k]:.2%}, critical failures {summary['critical']}, "
             f"malformed {summary['malformed']}, {summary['wall_seconds']} s.",
             "",
             "| | " + " | ".join(header for _, header in SUMMARY_COLUMNS) + f" | pass^{k} |",
             "|---" * (len(SUMMARY_COLUMNS) + 2) + "|"]
    for label, totals in summary_rows(summary):
        cells = [str(totals[key]) for key, _ in SUMMARY_COLUMNS]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {totals['pass_hat_k'].get(k, 0)} |")
    if report["problems"]:
        lines += ["", "## Malformed scenarios", "", *(f"- {problem}" for problem in report["problems"])]
    failed = [entry for entry in report["results"] if not entry["passed"]]
    lines += ["", f"## Failures ({len(failed)})"]
    for entry in failed:
        lines += ["", f"### {entry['id']} (trial {entry['trial']}, {entry['source']})"
                  + (" — CRITICAL" if entry["critical"] else ""), ""]
        lines += [f"- **{f['grader']}**: {f['message']}" for f in entry["failures"]]
        lines += ["", "```"]
        lines += [f"[{e['turn']}] {SPEAKERS[e['role']]}: {e['text']}" for e in entry["transcript"]]
        calls = ", ".join(f"{r['method']} {r['path']}{'?' + r['query'] if r['query'] else ''} → {r['status']}"
                          for r in entry["requests"])
        lines += ["```", "", f"Requests: {calls or 'none'}"]
    return "\n".join(lines) + "\n"
