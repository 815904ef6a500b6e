"""Benchmark the assistant's cancel flow ("把茅台那笔买单撤了" → preview → "确认" → cancel) on both engines.

- Offline engine: time per turn, the CPU time per turn of this whole process (the engine, the Client and the
  in-process broker's threads: less sensitive than wall time to a busy machine), and HTTP requests to the
  broker per flow (from `/v1/sim/requests` of an in-process simulation broker; the least a flow can make is
  one list and one DELETE).
- Claude engine, against the scripted Messages-API endpoint of the tests (scripted model turns, not Claude):
  model calls per flow, broker requests per flow, the engine's own time per turn (no model latency in it),
  the input per flow: characters of the system prompt + tool definitions JSON + the messages that the engine
  sent (and tokens by `client.messages.count_tokens` when ANTHROPIC_API_KEY is set), and the input tokens
  apart as the endpoint's simulated prompt cache counts them under the engine's cache breakpoints
  (uncached, cache writes, cache reads; tokens = characters / 4) with the output tokens.

    .venv/bin/python bench/assistant.py              # 20 flows per phrasing
    .venv/bin/python bench/assistant.py --flows 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere: `scripts` and `tests` are importable

from scripts._http import Client  # noqa: E402
from scripts.assistant import Assistant  # noqa: E402
from scripts.broker import BrokerSettings, running_broker  # noqa: E402
from tests.assistant.cancel_world import BUY_MAOTAI, WORLD  # noqa: E402
from tests.assistant.scripted_anthropic import ScriptedAnthropic, Turn, text, tool_use, turn  # noqa: E402

TOKEN = "bench-token"
CONFIRM = "确认"
# Ways people ask for the same cancel (all resolve to BUY_MAOTAI in WORLD).
REQUESTS = ("把茅台那笔买单撤了", "撤掉刚才那单", "撤单 abc12345")
LEAST_REQUESTS = 2  # one list of open orders, one DELETE
TOKEN_FIELDS = ("uncached_input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens")
BASELINE_INPUT_CHARS = 106_608  # whole input per Claude cancel flow before issue 11 (16k-character prompt)


def offline_available() -> str | None:
    """None when the offline engine can be built; else why not."""
    if not (ROOT / "scripts" / "assistant" / "offline.py").is_file():
        return "scripts/assistant/offline.py does not exist yet"
    try:
        from scripts.assistant.offline import OfflineEngine  # noqa: F401
    except ImportError as error:
        return f"scripts.assistant.offline does not import: {error}"
    return None


def broker_requests(sim: httpx.Client) -> list[str]:
    return [f"{entry['method']} {_shape(entry['path'])}" for entry in sim.get("/v1/sim/requests").json()["requests"]]


def _shape(path: str) -> str:
    """`/v1/orders/ord_accdefault_abc12345` → `/v1/orders/{id}`: requests grouped by route."""
    return "/".join("{id}" if part.startswith("ord_") else part for part in path.split("/"))


def run_flow(url: str, sim: httpx.Client, request: str,
             build: Callable[[Client], Assistant]) -> dict[str, Any]:
    """One cancel flow on a fresh world; times, broker requests and the engine's counts."""
    assert sim.post("/v1/sim/reset", json=WORLD).status_code == 200
    with Client(base_url=url, token=TOKEN) as client:
        chat = build(client)
        started, cpu_started = time.perf_counter(), time.process_time()
        first = chat.send(request)
        middle, cpu_middle = time.perf_counter(), time.process_time()
        second = chat.send(CONFIRM)
        ended, cpu_ended = time.perf_counter(), time.process_time()
    requests = broker_requests(sim)  # before the check below, which the log would count too
    state = sim.get(f"/v1/orders/{BUY_MAOTAI}", headers={"Authorization": f"Bearer {TOKEN}"}).json()["state"]
    return {"request_ms": (middle - started) * 1000, "confirm_ms": (ended - middle) * 1000,
            "request_cpu_ms": (cpu_middle - cpu_started) * 1000, "confirm_cpu_ms": (cpu_ended - cpu_middle) * 1000,
            "cancelled": state == "CANCELLED", "requests": requests,
            "model_calls": first.model_calls + second.model_calls,
            "tokens": {field: getattr(first, field) + getattr(second, field) for field in TOKEN_FIELDS}}


def summarize(flows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = [len(flow["requests"]) for flow in flows]
    routes = Counter(route for flow in flows for route in flow["requests"])
    return {
        "flows": len(flows), "cancelled": sum(flow["cancelled"] for flow in flows),
        "request_turn_ms": _spread([flow["request_ms"] for flow in flows]),
        "confirm_turn_ms": _spread([flow["confirm_ms"] for flow in flows]),
        "request_turn_cpu_ms": _spread([flow["request_cpu_ms"] for flow in flows]),
        "confirm_turn_cpu_ms": _spread([flow["confirm_cpu_ms"] for flow in flows]),
        "broker_requests_per_flow": {"min": min(counts), "median": statistics.median(counts), "max": max(counts)},
        "broker_requests_by_route_per_flow": {route: round(n / len(flows), 2) for route, n in sorted(routes.items())},
        "model_calls_per_flow": statistics.median(flow["model_calls"] for flow in flows),
        "tokens_per_flow": {field: statistics.median(flow["tokens"][field] for flow in flows)
                            for field in TOKEN_FIELDS},
    }


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 2), "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2)}


# --- the engines ------------------------------------------------------------------------------------------


def bench_offline(url: str, sim: httpx.Client, flows: int) -> dict[str, Any]:
    results = {}
    for request in REQUESTS:
        runs = [run_flow(url, sim, request, lambda client: Assistant(client, engine="offline"))
                for _ in range(flows)]
        results[request] = summarize(runs)
    return results


def cancel_script() -> list[Turn]:
    """The fewest model turns of the flow: list, preview, ask; then cancel, report (scripted, not Claude)."""
    return [
        turn(tool_use("list_orders", {"status": ["NEW", "WORKING"], "symbol": "600519", "side": "BUY", "limit": None})),
        turn(tool_use("preview_cancel", {"order_ids": [BUY_MAOTAI]})),  # the full id, as list_orders gave it
        turn(text("将撤销：买入 贵州茅台(600519) 100股，限价 1,800.00 元，委托号 abc12345，撤单后释放冻结资金 "
                  "180,046.80 元。确认撤销吗？")),
        turn(tool_use("cancel_orders", {"order_ids": [BUY_MAOTAI]})),
        turn(text("已撤单，释放冻结资金 180,046.80 元。")),
    ]


def bench_claude(url: str, sim: httpx.Client, flows: int) -> dict[str, Any]:
    with ScriptedAnthropic(simulate_cache=True) as endpoint:
        def build(client: Client) -> Assistant:
            endpoint.script(*cancel_script())
            return Assistant(client, engine="claude", api_key="bench-key", base_url=endpoint.url)

        runs = [run_flow(url, sim, REQUESTS[0], build) for _ in range(flows)]
        sent = endpoint.requests[-len(cancel_script()):]  # the requests of the last flow
        problems = endpoint.violations + ([f"{endpoint.unscripted} unscripted"] if endpoint.unscripted else [])
    summary = summarize(runs)
    summary["engine_ms_per_turn_note"] = "the engine's own time: the scripted endpoint answers at once"
    summary["input_per_flow"] = input_size(sent)
    summary["endpoint_problems"] = problems
    return summary


def input_size(sent: list[dict[str, Any]]) -> dict[str, Any]:
    """What the model reads in one flow: the fixed part of each call (system + tools) and the whole."""
    first = sent[0]
    fixed_chars = len(first["system"][0]["text"]) + len(json.dumps(first["tools"], ensure_ascii=False))
    total_chars = sum(len(first["system"][0]["text"]) + len(json.dumps(body["tools"], ensure_ascii=False))
                      + len(json.dumps(body["messages"], ensure_ascii=False)) for body in sent)
    size: dict[str, Any] = {"calls": len(sent), "system_and_tools_chars_per_call": fixed_chars,
                            "input_chars_per_flow": total_chars,
                            "of_baseline": round(total_chars / BASELINE_INPUT_CHARS, 3)}
    if not os.environ.get("ANTHROPIC_API_KEY"):
        size["tokens"] = "not counted: set ANTHROPIC_API_KEY to count with client.messages.count_tokens"
        return size
    import anthropic

    from scripts.assistant.claude import DEFAULT_MODEL

    counter = anthropic.Anthropic(max_retries=4)
    model = os.environ.get("ANTHROPIC_MODEL") or DEFAULT_MODEL
    try:
        fixed = counter.messages.count_tokens(model=model, system=first["system"], tools=first["tools"],
                                              messages=[{"role": "user", "content": "你好"}]).input_tokens
        per_call = [counter.messages.count_tokens(model=model, system=body["system"], tools=body["tools"],
                                                  messages=body["messages"]).input_tokens for body in sent]
    except anthropic.AnthropicError as error:
        size["tokens"] = f"count_tokens failed: {type(error).__name__}"
        return size
    size.update({"model": model, "system_and_tools_tokens_per_call": fixed, "input_tokens_per_call": per_call,
                 "input_tokens_per_flow": sum(per_call)})
    return size


# --- output ---------------------------------------------------------------------------------------------


def print_report(report: dict[str, Any]) -> None:
    offline = report["offline"]
    print(f"{report['cpus']} CPUs, load average {report['load_average_1m']:.1f} at the start")
    if isinstance(offline, str):
        print(f"offline engine: skipped ({offline})")
    else:
        print(f"offline engine ({report['flows']} flows per phrasing; least possible broker requests per flow: "
              f"{LEAST_REQUESTS}, one list and one DELETE)")
        for request, summary in offline.items():
            _print_flow(f"  {request} → {CONFIRM}", summary)
    claude = report["claude"]
    print(f"claude engine, scripted endpoint ({report['flows']} flows; scripted model turns, not Claude)")
    _print_flow(f"  {REQUESTS[0]} → {CONFIRM}", claude)
    size = claude["input_per_flow"]
    print(f"    model calls per flow: {claude['model_calls_per_flow']:g}")
    print(f"    system prompt + tool definitions: {size['system_and_tools_chars_per_call']} chars per call; "
          f"whole input per flow: {size['input_chars_per_flow']} chars over {size['calls']} calls "
          f"({size['of_baseline']:.1%} of the {BASELINE_INPUT_CHARS:,} before issue 11)")
    tokens = claude["tokens_per_flow"]
    print(f"    tokens per flow (simulated prompt cache, characters / 4): uncached input "
          f"{tokens['uncached_input_tokens']:g}, cache writes {tokens['cache_write_tokens']:g}, cache reads "
          f"{tokens['cache_read_tokens']:g}, output {tokens['output_tokens']:g}")
    if "input_tokens_per_flow" in size:
        print(f"    tokens ({size['model']}, count_tokens): system + tools {size['system_and_tools_tokens_per_call']} "
              f"per call; input per flow {size['input_tokens_per_flow']} ({size['input_tokens_per_call']})")
    else:
        print(f"    tokens: {size['tokens']}")
    if claude["endpoint_problems"]:
        print(f"    endpoint problems: {claude['endpoint_problems']}")


def _print_flow(label: str, summary: dict[str, Any]) -> None:
    requests = summary["broker_requests_per_flow"]
    routes = ", ".join(f"{route} ×{count:g}" for route, count in summary["broker_requests_by_route_per_flow"].items())
    print(f"{label}: cancelled {summary['cancelled']}/{summary['flows']}")
    print(f"    time per turn: request {summary['request_turn_ms']['median']:.1f} ms "
          f"(p90 {summary['request_turn_ms']['p90']:.1f}), confirm {summary['confirm_turn_ms']['median']:.1f} ms "
          f"(p90 {summary['confirm_turn_ms']['p90']:.1f})")
    request_cpu, confirm_cpu = summary["request_turn_cpu_ms"], summary["confirm_turn_cpu_ms"]
    print(f"    CPU per turn (this process, broker threads included): request {request_cpu['median']:.1f} ms "
          f"(p90 {request_cpu['p90']:.1f}), confirm {confirm_cpu['median']:.1f} ms (p90 {confirm_cpu['p90']:.1f})")
    print(f"    broker requests per flow: {requests['median']:g} (min {requests['min']}, max {requests['max']}): "
          f"{routes}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=20, help="cancel flows per phrasing (default 20)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args(argv)
    if args.flows < 1:
        parser.error("--flows must be at least 1")
    # Benchmark cancels in a simulated world stay out of the user's audit file (set TRADING_AUDIT_LOG to keep them).
    os.environ.setdefault("TRADING_AUDIT_LOG", "off")
    with running_broker(BrokerSettings(sim=True, token=TOKEN)) as url, httpx.Client(base_url=url, timeout=30) as sim:
        missing = offline_available()
        report = {"flows": args.flows, "cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
                  "offline": missing or bench_offline(url, sim, args.flows),
                  "claude": bench_claude(url, sim, args.flows)}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
