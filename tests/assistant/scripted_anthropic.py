"""A scripted Messages-API endpoint for tests: scripted model turns written by the tests; not recordings of Claude.

A real HTTP server (http.server in a thread, on a free loopback port) that the real `anthropic` SDK talks to
through `base_url`. It answers `POST /v1/messages` with the turns a test scripted, in order, and records
every request body, so a test can read what the engine sent back (a `tool_result` with `is_error`, the
gate's refusal code). A scripted `Failure` answers 4xx/5xx the way the API does, to exercise the SDK's
`max_retries` and the engine's error reply; a `Stall` holds the request (to test timeouts); a `Raw` answers
a body no real API would send.

With `simulate_cache=True` the usage of each turn is computed from the request, as the API's prompt cache
would count it with the request's `cache_control` breakpoints: tokens are characters / 4 (a stand-in, like
count_tokens below), a breakpoint writes its prefix, and a later request reads the longest prefix written
before at one of the 20 block boundaries up to each of its breakpoints.

    with ScriptedAnthropic() as endpoint:
        endpoint.script(turn(tool_use("list_orders", {...})), turn(text("…")))
        engine = ClaudeEngine(tools, api_key="test", base_url=endpoint.url)

Like the real API it rejects (400 `invalid_request_error`) a request that breaks the conversation rules the
engine must keep (a `tool_use` without its `tool_result` in the next message, results after text, empty
text blocks, a tool the request did not declare); each such rejection is kept in `violations`.
`POST /v1/messages/count_tokens` answers a rough figure (characters / 4), not a tokenizer's count.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
               529: "overloaded_error"}
_ids = itertools.count(1)


@dataclass(frozen=True)
class Turn:
    """One scripted model response: content blocks, a stop_reason, usage."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: dict[str, int]


@dataclass(frozen=True)
class Failure:
    """One scripted error answer (the SDK retries 408/409/429/5xx; `retry-after-ms` keeps tests fast)."""

    status: int
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=lambda: {"retry-after-ms": "1"})


@dataclass(frozen=True)
class Raw:
    """One 200 answer with a body a real API would never send: a message missing `usage` or `content`, or
    text that is not JSON at all (a `str` is sent as it is)."""

    body: dict[str, Any] | str


@dataclass(frozen=True)
class Stall:
    """Hold the request `seconds` (or until the endpoint closes), then answer `then`, or close the connection."""

    seconds: float
    then: Turn | None = None


def text(words: str) -> dict[str, Any]:
    return {"type": "text", "text": words}


def tool_use(name: str, arguments: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": block_id or f"toolu_scripted_{next(_ids):04d}", "name": name,
            "input": arguments}


def turn(*blocks: dict[str, Any], stop_reason: str | None = None, input_tokens: int = 1000,
         output_tokens: int = 50) -> Turn:
    """A model response; its stop_reason is `tool_use` when it asks for a tool, else `end_turn`."""
    asks_tool = any(block["type"] == "tool_use" for block in blocks)
    return Turn(list(blocks), stop_reason or ("tool_use" if asks_tool else "end_turn"),
                {"input_tokens": input_tokens, "output_tokens": output_tokens})


class ScriptedAnthropic:
    """The endpoint; `requests` holds every `/v1/messages` body received, retries included."""

    def __init__(self, simulate_cache: bool = False) -> None:
        self.simulate_cache = simulate_cache
        self._cached: set[str] = set()  # prefixes written to the simulated prompt cache, by hash
        self._closing = threading.Event()
        self.queue: deque[Turn | Failure | Raw | Stall] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # of each request in `requests` (x-stainless-retry-count, x-api-key)
        self.count_requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.unscripted = 0  # requests that found the script empty
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="scripted-anthropic", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ScriptedAnthropic:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._closing.set()  # a stalled request ends now
        self._server.shutdown()
        self._server.server_close()

    def script(self, *steps: Turn | Failure | Raw | Stall) -> None:
        with self._lock:
            self.queue.extend(steps)

    @property
    def pending(self) -> int:
        """Scripted steps not served yet."""
        return len(self.queue)

    def tool_results(self, request: int = -1) -> list[dict[str, Any]]:
        """The tool_result blocks of a request's last message, each with its content decoded from JSON."""
        last = self.requests[request]["messages"][-1]
        blocks = last["content"] if isinstance(last["content"], list) else []
        return [{**block, "content": json.loads(block["content"])} for block in blocks
                if block.get("type") == "tool_result"]

    # --- serving ---------------------------------------------------------------------------------

    def _answer(self, path: str, body: dict[str, Any],
                headers: dict[str, str]) -> tuple[int, dict[str, Any] | str, dict[str, str]] | None:
        if path == "/v1/messages/count_tokens":
            with self._lock:
                self.count_requests.append(body)
            size = len(json.dumps({key: body.get(key) for key in ("system", "tools", "messages")},
                                  ensure_ascii=False))
            return 200, {"input_tokens": size // 4}, {}
        if path != "/v1/messages":
            return _error(404, f"no route {path}")
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            problem = check_request(body)
            if problem:
                self.violations.append(problem)
                return _error(400, problem)
            if not self.queue:
                self.unscripted += 1
                status, payload, _ = _error(500, "the test scripted no more model turns")
                return status, payload, {"x-should-retry": "false"}
            step = self.queue.popleft()
            usage = self._cache_usage(body) if self.simulate_cache else {}
        if isinstance(step, Stall):
            self._closing.wait(step.seconds)
            if step.then is None:
                return None
            step = step.then
        if isinstance(step, Failure):
            status, payload, _ = _error(step.status, step.message)
            return status, payload, step.headers
        if isinstance(step, Raw):
            return 200, step.body, {}
        message = {"id": f"msg_scripted_{next(_ids):04d}", "type": "message", "role": "assistant",
                   "model": body.get("model"), "content": step.content, "stop_reason": step.stop_reason,
                   "stop_sequence": None, "usage": {**step.usage, **usage}}
        return 200, message, {}

    def _cache_usage(self, body: dict[str, Any]) -> dict[str, int]:
        """input_tokens, cache_creation_input_tokens and cache_read_input_tokens as the prompt cache would
        count this request (tools, then system, then messages; tokens = characters / 4)."""
        digest = hashlib.sha256()
        ends: list[tuple[int, str, bool]] = []  # (characters so far, prefix hash, breakpoint here)
        size = 0
        for block in _cacheable_blocks(body):
            marked = "cache_control" in block
            piece = json.dumps({key: value for key, value in block.items() if key != "cache_control"},
                               ensure_ascii=False, sort_keys=True)
            digest.update(piece.encode())
            size += len(piece)
            ends.append((size, digest.hexdigest(), marked))
        read = written_to = 0
        for at, (end, prefix, marked) in enumerate(ends):
            if not marked:
                continue
            hits = [ends[back][0] for back in range(max(0, at - 20), at + 1) if ends[back][1] in self._cached]
            read = max([read, *hits])
            written_to = end
            self._cached.add(prefix)
        read_tokens = read // 4
        write_tokens = max(0, written_to - read) // 4
        return {"input_tokens": size // 4 - read_tokens - write_tokens, "cache_read_input_tokens": read_tokens,
                "cache_creation_input_tokens": write_tokens}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
            disable_nagle_algorithm = True  # headers and body go out as two writes: no delayed-ACK stall

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    status, payload, headers = _error(400, "body is not JSON")
                else:
                    answer = endpoint._answer(self.path.split("?", 1)[0], body,
                                              {k.lower(): v for k, v in self.headers.items()})
                    if answer is None:  # a stall that ends without an answer
                        self.close_connection = True
                        return
                    status, payload, headers = answer
                raw = isinstance(payload, str)
                data = payload.encode() if raw else json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", f"req_scripted_{next(_ids):04d}")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a stalled request closed its socket: nothing to report


def _cacheable_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = [{"tool": tool} | ({"cache_control": tool["cache_control"]} if "cache_control" in tool else {})
              for tool in body.get("tools") or []]
    system = body.get("system") or []
    blocks += [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
    for message in body.get("messages") or []:
        content = message["content"]
        blocks += [{"type": "text", "text": content}] if isinstance(content, str) else content
    if body.get("cache_control") and blocks:  # automatic caching: a breakpoint on the last block
        blocks[-1] = {**blocks[-1], "cache_control": body["cache_control"]}
    return blocks


def _error(status: int, message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    kind = ERROR_TYPES.get(status, "api_error")
    return status, {"type": "error", "error": {"type": kind, "message": message}}, {}


def check_request(body: dict[str, Any]) -> str | None:
    """The conversation rules the real API enforces with a 400; None when the request keeps them."""
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: field required"
    messages = body["messages"]
    if not messages or messages[0]["role"] != "user":
        return "messages: the first message must use the user role"
    declared = {tool["name"] for tool in body.get("tools") or []}
    for index, message in enumerate(messages):
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not blocks:
            return f"messages.{index}: content must not be empty"
        for block in blocks:
            if block["type"] == "text" and not block["text"].strip():
                return f"messages.{index}: text content blocks must contain non-whitespace text"
            if block["type"] == "tool_use" and block["name"] not in declared:
                return f"messages.{index}: tool_use of an undeclared tool {block['name']}"
        if message["role"] != "user":
            continue
        kinds = [block["type"] for block in blocks]
        results_at = [at for at, kind in enumerate(kinds) if kind == "tool_result"]
        if results_at and "text" in kinds and kinds.index("text") < results_at[-1]:
            return f"messages.{index}: tool_result blocks must come before any text"
        asked = _tool_use_ids(messages[index - 1]) if index else []
        answered = [block["tool_use_id"] for block in blocks if block["type"] == "tool_result"]
        if sorted(asked) != sorted(answered):
            return (f"messages.{index}: tool_use ids {asked} need exactly one tool_result each in the next "
                    f"message; found {answered}")
    if _tool_use_ids(messages[-1]) and messages[-1]["role"] == "assistant":
        return "messages: a final assistant tool_use needs its tool_result"
    return None


def _tool_use_ids(message: dict[str, Any]) -> list[str]:
    if message["role"] != "assistant" or isinstance(message["content"], str):
        return []
    return [block["id"] for block in message["content"] if block["type"] == "tool_use"]
