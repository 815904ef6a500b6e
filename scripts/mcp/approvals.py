"""The one-time approval page: how a user whose MCP client cannot show a confirmation form approves a cancel
outside the model.

`cancel_orders` on such a client files an `Approval` (the exact orders and their state as previewed) and answers
with a link to `http://127.0.0.1:<random port>/approve/<token>`, where a small stdlib HTTP server on a background
thread shows the same preview with 确认撤销 / 取消. Only a POST of that page's own form decides:

- the token in the path is 32 random bytes (unguessable), the form carries a second random value (CSRF), and a
  POST whose Host, Origin or Sec-Fetch-Site says it came from another site, or that lacks the Sec-Fetch-Site a
  browser sends, is refused without using the page; the page itself shows its form only to a browser's
  navigation (Sec-Fetch-Mode: navigate), not to a script fetching it;
- an approval decides once (a replay finds it used) and only within `ttl_seconds` (an expired page does nothing);
- on 确认 the orders are read again and must still be exactly as previewed (a fill or any change in between
  voids the approval: nothing is cancelled, the page says what changed); then they are cancelled by id at once,
  and the page shows what was released. The next `cancel_orders` call with the same ids reports that outcome
  into the conversation (`latest_for`), once.

Nothing is logged: the request line carries the token.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from .._http import ApiError, Client
from ..audit import AuditLog
from ..messages import render
from .previews import PreviewError, Shown, cancel_and_report, changed_text, changes_since

DEFAULT_TTL_SECONDS = 300.0  # five minutes: long enough to read a preview, short enough that it cannot linger
MAX_BODY_BYTES = 4096  # the form has two fields
PATH_PREFIX = "/approve/"


@dataclass
class Approval:
    token: str
    csrf: str
    shown: Shown  # rendered for the page
    expires_at: float
    state: str = "open"  # open → deciding → done | declined | changed; open → expired
    outcome: dict[str, Any] | None = None  # the cancel's report, or the sentence of what changed
    reported: bool = False  # the outcome has been returned to the model once
    created_at: float = field(default_factory=time.monotonic)

    def minutes(self) -> int:
        """The page's whole lifetime in minutes, as the user is told it."""
        return max(1, round((self.expires_at - self.created_at) / 60))

    def minutes_left(self) -> int:
        return max(1, round((self.expires_at - time.monotonic()) / 60))


class ApprovalDesk:
    """The approvals of one MCP server process and the page that decides them (started on first use)."""

    def __init__(self, client: Client, audit: AuditLog, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self._client = client  # the server's own Client (httpx's client is safe to share between threads)
        self._audit = audit
        self.ttl_seconds = ttl_seconds
        self._approvals: dict[str, Approval] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- the MCP side ---------------------------------------------------------------------------------

    def file(self, shown: Shown) -> Approval:
        """A new approval for exactly this preview; any earlier open one for the same orders is withdrawn."""
        self._start()
        approval = Approval(secrets.token_urlsafe(32), secrets.token_urlsafe(32), shown,
                            time.monotonic() + self.ttl_seconds)
        shown.record(self._audit, via="approval_page")
        with self._lock:
            for other in self._approvals.values():
                if other.state == "open" and set(other.shown.order_ids) == set(shown.order_ids):
                    other.state = "expired"
            self._approvals[approval.token] = approval
        return approval

    def latest_for(self, order_ids: list[str]) -> Approval | None:
        """The newest approval for exactly these orders whose outcome the conversation has not heard yet."""
        wanted = set(order_ids)
        with self._lock:
            self._expire()
            found = [approval for approval in self._approvals.values()
                     if set(approval.shown.order_ids) == wanted and not approval.reported]
        return max(found, key=lambda approval: approval.created_at) if found else None

    def mark_reported(self, approval: Approval) -> None:
        with self._lock:
            approval.reported = True

    def url(self, approval: Approval) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{PATH_PREFIX}{approval.token}"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the page side --------------------------------------------------------------------------------

    def page(self, token: str, headers: dict[str, str]) -> tuple[int, str]:
        if not self._our_host(headers):  # a DNS-rebinding page must not read the form's CSRF value
            return HTTPStatus.FORBIDDEN, self._html("refused")
        if headers.get("sec-fetch-mode") != "navigate":
            # A browser opening the link says so; a script fetching the page (a model's tool) does not, and
            # must not read the form's CSRF value and press the button itself.
            return HTTPStatus.FORBIDDEN, self._html("browser_only")
        with self._lock:
            self._expire()
            approval = self._approvals.get(token)
        if approval is None:
            return HTTPStatus.NOT_FOUND, self._html("unknown")
        if approval.state == "open":
            return HTTPStatus.OK, self._html("open", approval)
        return self._settled_page(approval)

    def decide(self, token: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        """A POST of the page's form: check where it came from, use the approval once, act on the choice."""
        if not self._same_origin(headers):
            return HTTPStatus.FORBIDDEN, self._html("refused")
        with self._lock:
            self._expire()
            approval = self._approvals.get(token)
            if approval is None:
                return HTTPStatus.NOT_FOUND, self._html("unknown")
            if approval.state != "open":
                return self._settled_page(approval)
            genuine = hmac.compare_digest(form.get("csrf", "").encode(), approval.csrf.encode())
            if not genuine or form.get("choice") not in {"确认", "取消"}:
                return HTTPStatus.FORBIDDEN, self._html("refused")
            approval.state = "deciding"  # from here on, no other request can use it
        audit = self._audit.bound(environment=approval.shown.environment)
        ids = list(approval.shown.order_ids)
        if form["choice"] == "取消":
            audit.record("approval", decision="reject", via="approval_page", order_ids=ids, result="dropped",
                         reason="declined")
            self._settle(approval, "declined", None)
            return HTTPStatus.OK, self._html("declined", approval)
        audit.record("approval", decision="approve", via="approval_page", order_ids=ids, result="confirmed")
        client = self._client
        try:
            changes = changes_since(approval.shown, client)
        except PreviewError as error:
            audit.record("cancel_refused", reason="changed", order_ids=ids, code=error.problem.code)
            self._settle(approval, "changed", {"text": error.problem.user_message, "changes": []})
            return HTTPStatus.CONFLICT, self._html("changed", approval, approval.outcome["text"])
        if changes:
            audit.record("cancel_refused", reason="changed", order_ids=ids, changes=changes)
            self._settle(approval, "changed", {"text": changed_text(changes), "changes": changes})
            return HTTPStatus.CONFLICT, self._html("changed", approval, approval.outcome["text"])
        try:
            report = cancel_and_report(client, ids, audit)
        except ApiError as error:  # cancel_by_ids reports per order; this is a last guard, never a traceback
            audit.record("cancel_outcome", order_ids=ids, error=error.code)
            report = {"status": "failed", "results": [], "text": error.code}
        self._settle(approval, "done", report)
        return HTTPStatus.OK, self._html("done", approval, report["text"])

    # --- inside -----------------------------------------------------------------------------------------

    def _settle(self, approval: Approval, state: str, outcome: dict[str, Any] | None) -> None:
        with self._lock:
            approval.state = state
            approval.outcome = outcome

    def _settled_page(self, approval: Approval) -> tuple[int, str]:
        if approval.state == "expired":
            return HTTPStatus.GONE, self._html("expired")
        text = (approval.outcome or {}).get("text") if approval.state in ("done", "changed") else None
        return HTTPStatus.CONFLICT, self._html("used", approval, text)

    def _expire(self) -> None:
        now = time.monotonic()
        for approval in self._approvals.values():
            if approval.state == "open" and now >= approval.expires_at:
                approval.state = "expired"

    def _hosts(self) -> set[str]:
        assert self._server is not None
        port = self._server.server_address[1]
        return {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _our_host(self, headers: dict[str, str]) -> bool:
        """A DNS-rebinding page reaches 127.0.0.1 under its own name, which the Host header gives away."""
        return headers.get("host") in self._hosts()

    def _same_origin(self, headers: dict[str, str]) -> bool:
        if not self._our_host(headers):
            return False
        hosts = self._hosts()
        origin = headers.get("origin")
        if origin is not None and origin not in {f"http://{host}" for host in hosts}:
            return False
        # Required, not only checked when present: every browser sends it to 127.0.0.1, a script's POST does not.
        return headers.get("sec-fetch-site") == "same-origin"

    def _html(self, state: str, approval: Approval | None = None, outcome: str | None = None) -> str:
        return render("approval_page", state=state, preview=approval.shown.text if approval else "",
                      environment=approval.shown.environment if approval else None,
                      csrf=approval.csrf if approval else "", action=f"{PATH_PREFIX}{approval.token}" if approval
                      else "", minutes_left=approval.minutes_left() if approval else 0, outcome=outcome)

    def _start(self) -> None:
        if self._server is not None:
            return
        desk = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "a-share-orders-approval"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request line carries the one-time token: never logged

            def do_GET(self) -> None:
                headers = {name.lower(): value for name, value in self.headers.items()}
                token = self.path[len(PATH_PREFIX):].split("?", 1)[0] if self.path.startswith(PATH_PREFIX) else ""
                self._send(*desk.page(token, headers))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if not self.path.startswith(PATH_PREFIX) or not 0 < length <= MAX_BODY_BYTES:
                    self._send(HTTPStatus.BAD_REQUEST, desk._html("unknown"))
                    return
                fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"), max_num_fields=4)
                form = {name: values[0] for name, values in fields.items() if values}
                headers = {name.lower(): value for name, value in self.headers.items()}
                self._send(*desk.decide(self.path[len(PATH_PREFIX):], form, headers))

            def _send(self, status: int, html: str) -> None:
                body = html.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("X-Frame-Options", "DENY")
                self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="approval-page", daemon=True).start()
