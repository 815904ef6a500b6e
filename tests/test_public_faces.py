"""Each package's public face is exactly what it exports; other parts import from there."""

from __future__ import annotations

import importlib

import pytest

FACES = {
    "scripts._http": {"ApiError", "Client"},
    "scripts.assistant": {"Action", "Assistant", "ConfirmationGate", "GateRefusalError", "PendingCancel", "Reply",
                          "ReplyClass", "ReplyKind", "Answer", "AnswerKind", "DropReason", "read_answer"},
    "scripts.broker": {"DEFAULT_ACCOUNT", "DEVELOPMENT_TOKEN", "BrokerSettings", "create_app", "running_broker",
                       "serve"},
    "scripts.orders": {"UNCLEAR_OUTCOMES", "UnknownOrderIdError", "cancel_by_ids", "cancel_with_messages",
                       "cancels_reopen_at", "expand_order_id", "order_detail", "order_summary", "preview_totals",
                       "price_change", "short_id", "would_release"},
    "scripts.evals": {"GRADERS", "Failure", "RunOptions", "RunRecord", "Scenario", "Suite", "SuiteProblem",
                      "build_report", "grade", "load_suite", "pass_hat_k", "run_suite", "run_trial", "write_report"},
}


@pytest.mark.parametrize("module", sorted(FACES))
def test_the_exported_names_are_exactly_the_intended_ones(module: str) -> None:
    face = importlib.import_module(module)
    assert set(face.__all__) == FACES[module]
    for name in face.__all__:
        assert hasattr(face, name), name


def test_the_assistant_and_the_client_never_load_the_broker() -> None:
    import subprocess
    import sys

    code = ("import sys, scripts.assistant, scripts._http, scripts.trade; "
            "print(any(m.startswith('scripts.broker') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
