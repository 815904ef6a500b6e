"""Run scenarios: each trial is a fresh world in a broker of its own worker, a simulated user, an assistant.

Workers run side by side (`concurrency`), each with its own broker process, reused through
`/v1/sim/reset`, so runs never interfere. The assistant is built and driven exactly as a host would:
`Assistant(Client(...), engine=...)` and `send(text)`.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._http import Client
from ..assistant import Assistant
from ..audit import AUDIT_ENV, AuditLog
from .brokers import BrokerProcess, WorldError
from .graders import RunRecord
from .suite import MAX_USER_TURNS, Scenario
from .user import ClaudeUser, ScriptedUser

# Shorter than the slowest simulated answer (delay_after_apply of 3 s in the suites), so a delayed cancel
# really reaches the assistant as "outcome unknown"; far above a local broker's normal answer time.
CLIENT_TIMEOUT = httpx.Timeout(2.0, connect=5.0)


def trial_audit() -> AuditLog:
    """Off unless TRADING_AUDIT_LOG is set: simulated users' cancels in simulated worlds do not belong in the
    user's own audit file. Set, each trial is a session of the "eval" face."""
    return AuditLog.from_env(face="eval") if os.environ.get(AUDIT_ENV, "").strip() else AuditLog.off(face="eval")


@dataclass
class RunOptions:
    engine: str = "offline"
    user: str = "scripted"  # or "claude": an LLM plays the user from the scenario as a persona
    trials: int = 1
    concurrency: int = 2
    engine_options: dict[str, Any] = field(default_factory=dict)


def run_trial(broker: BrokerProcess, scenario: Scenario, trial: int, options: RunOptions) -> RunRecord:
    started = time.perf_counter()
    record = RunRecord(scenario, trial, refs={})
    try:
        record.refs = broker.load(scenario)
    except WorldError as error:
        record.error = f"the broker refused the world: {error}"
        return record
    ids = list(record.refs.values())
    record.before = broker.orders(ids)
    seen = len(broker.request_log())  # the harness's own reads above are not the assistant's
    turn = 0
    with Client(base_url=broker.url, token=broker.token, timeout=CLIENT_TIMEOUT) as client:
        try:
            assistant = Assistant(client, engine=options.engine, audit=trial_audit(), **options.engine_options)
            user = (ClaudeUser(scenario, record.refs) if options.user == "claude"
                    else ScriptedUser(scenario, record.refs))
            question: str | None = None
            said: str | None = None
            while turn < MAX_USER_TURNS:
                text = user.next(question, said)
                if text is None:
                    break
                turn += 1
                record.transcript.append({"turn": turn, "role": "user", "text": text})
                reply = assistant.send(text)
                record.transcript.append({
                    "turn": turn, "role": "assistant", "text": reply.text, "question": reply.question,
                    "pending": list(reply.pending.order_ids) if reply.pending else [],
                })
                record.model_calls += reply.model_calls
                record.input_tokens += reply.input_tokens
                record.output_tokens += reply.output_tokens
                record.uncached_input_tokens += reply.uncached_input_tokens
                record.cache_write_tokens += reply.cache_write_tokens
                record.cache_read_tokens += reply.cache_read_tokens
                seen = _collect(broker, record, seen, turn)
                for event in scenario.events:
                    if event.after_turn == turn:
                        broker.apply(event)
                question, said = reply.question, reply.text
        except WorldError as error:
            record.error = f"the broker refused an event: {error}"
        except Exception as error:
            record.error = f"the assistant failed: {type(error).__name__}: {error}"
    _collect(broker, record, seen, turn)
    record.after = broker.orders(ids)
    record.seconds = time.perf_counter() - started
    return record


def _collect(broker: BrokerProcess, record: RunRecord, seen: int, turn: int) -> int:
    """Tag the broker's new log entries with the user turn they followed."""
    log = broker.request_log()
    for entry in log[seen:]:
        record.requests.append({**entry, "turn": turn})
    return len(log)


def run_suite(scenarios: list[Scenario], options: RunOptions,
              on_done: Callable[[RunRecord], None] | None = None) -> list[RunRecord]:
    """Every scenario `options.trials` times, `options.concurrency` at a time; results in suite order."""
    jobs = [(scenario, trial) for scenario in scenarios for trial in range(1, options.trials + 1)]
    if not jobs:
        return []
    workers = max(1, min(options.concurrency, len(jobs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        brokers = list(pool.map(lambda _: BrokerProcess(), range(workers)))
    idle: queue.Queue[BrokerProcess] = queue.Queue()
    for broker in brokers:
        idle.put(broker)

    def run(job: tuple[Scenario, int]) -> RunRecord:
        broker = idle.get()
        try:
            record = run_trial(broker, *job, options)
        finally:
            idle.put(broker)
        if on_done is not None:
            on_done(record)
        return record

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run, jobs))
    finally:
        for broker in brokers:
            broker.close()
