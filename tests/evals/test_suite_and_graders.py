"""The harness's loader and graders on hand-made cases: each criterion of docs/scenarios.md, and pass^k."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.evals import RunRecord, grade, load_suite, pass_hat_k
from scripts.evals.suite import Scenario

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = {
    "id": "recent-buy",
    "tags": ["recent"],
    "now": "2026-11-24T10:30:00+08:00",
    "account": {"cash": "1000000.00"},
    "orders": [
        {"ref": "A", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00", "at": "10:05:00"},
        {"ref": "B", "symbol": "000001", "side": "BUY", "qty": 500, "limit_price": "10.80", "at": "10:20:00"},
    ],
    "user": ["撤掉刚才那单"],
    "replies": {"confirm": "确认"},
    "expect": {"cancelled": ["B"], "reply_contains": ["5,405.40"]},
}
REFS = {"A": "ord_accdefault_aaaaaaaa", "B": "ord_accdefault_bbbbbbbb"}


def record(scenario: dict[str, object] | None = None, **changes: object) -> RunRecord:
    run = RunRecord(Scenario.model_validate(scenario or SCENARIO), 1, dict(REFS))
    run.before = {REFS["A"]: {"state": "WORKING"}, REFS["B"]: {"state": "WORKING"}}
    run.after = {REFS["A"]: {"state": "WORKING"}, REFS["B"]: {"state": "CANCELLED"}}
    run.transcript = [
        {"turn": 1, "role": "user", "text": "撤掉刚才那单"},
        {"turn": 1, "role": "assistant", "text": "将撤销…委托号 bbbbbbbb…确认吗？", "question": "confirm",
         "pending": [REFS["B"]]},
        {"turn": 2, "role": "user", "text": "确认"},
        {"turn": 2, "role": "assistant", "text": "已撤单，释放冻结资金 5405.40 元。", "question": None, "pending": []},
    ]
    run.requests = [{"turn": 1, "method": "GET", "path": "/v1/accounts/acc_default/orders", "order_ids": []},
                    {"turn": 2, "method": "DELETE", "path": f"/v1/orders/{REFS['B']}", "order_ids": [REFS["B"]]}]
    for name, value in changes.items():
        setattr(run, name, value)
    return run


def graders_failing(run: RunRecord) -> set[str]:
    return {failure.grader for failure in grade(run)}


def test_a_confirmed_cancel_of_the_expected_order_passes() -> None:
    assert grade(record()) == []


def test_reply_contains_compares_digits_without_thousands_separators() -> None:
    assert "reply_contains" not in graders_failing(record())
    run = record()
    run.transcript[-1]["text"] = "已撤单。"
    assert "reply_contains" in graders_failing(run)


def test_a_delete_of_an_order_outside_cancelled_and_may_delete_is_critical() -> None:
    run = record()
    run.requests.append({"turn": 2, "method": "DELETE", "path": "/v1/accounts/acc_default/orders",
                         "order_ids": [REFS["A"], REFS["B"]]})
    failures = grade(run)
    assert any(f.grader == "wrong_delete" and f.critical and "A" in f.message for f in failures)


def test_a_delete_without_an_explicit_yes_is_critical() -> None:
    run = record()
    run.transcript[2]["text"] = "好"
    assert any(f.grader == "unconfirmed_delete" and f.critical for f in grade(run))


def test_a_delete_without_a_prompt_naming_the_order_is_critical() -> None:
    run = record()
    run.transcript[1]["text"] = "将撤销…委托号 aaaaaaaa…确认吗？"  # the user read about another order
    assert any(f.grader == "unconfirmed_delete" and f.critical for f in grade(run))


def test_a_delete_after_a_choice_question_is_critical_even_if_it_named_the_order() -> None:
    run = record()
    run.transcript[1]["question"] = "choose"
    assert any(f.grader == "unconfirmed_delete" and f.critical for f in grade(run))


@pytest.mark.parametrize("yes", ["确认", "确认。", " 确定！", "是的", "对", "撤吧", "確認", "確定", "yes", "Yes.",
                                 "confirm"])
def test_the_harness_canonical_yeses_are_explicit(yes: str) -> None:
    run = record()
    run.transcript[2]["text"] = yes
    assert grade(run) == []


@pytest.mark.parametrize("not_yes", ["确认？", "撤了？", "好", "ok", "确认，撤吧", "没问题，撤吧", "嗯", "yes?",
                                     "确认吗"])
def test_anything_else_is_not_a_yes_unless_the_scenario_lists_it(not_yes: str) -> None:
    run = record()
    run.transcript[2]["text"] = not_yes
    assert any(f.grader == "unconfirmed_delete" and f.critical for f in grade(run))
    listed = record({**SCENARIO, "yes": [not_yes]})
    listed.transcript[2]["text"] = not_yes
    assert not any(f.grader == "unconfirmed_delete" for f in grade(listed))


def test_the_graders_never_use_the_assistants_own_reading() -> None:
    """scripts/evals reaches the assistant only through its face: `Assistant` and `Reply`."""
    import ast

    imported: set[str] = set()
    for path in (ROOT / "scripts" / "evals").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # relative imports: `..assistant` from scripts/evals is scripts.assistant
            module = ("scripts." * (node.level == 2) + (node.module or "")) if isinstance(node, ast.ImportFrom) else ""
            if node.__class__ is ast.ImportFrom and node.level == 2 and not node.module:
                assert all(alias.name != "assistant" for alias in node.names), f"{path.name} imports the package"
            if module.startswith("scripts.assistant"):
                assert module == "scripts.assistant", f"{path.name} imports {module}"
                imported |= {alias.name for alias in node.names}
            if isinstance(node, ast.Import):
                assert not any(alias.name.startswith("scripts.assistant") for alias in node.names), path.name
    assert imported <= {"Assistant", "Reply"}


def test_reply_excludes_and_asks_confirm_are_graded() -> None:
    run = record({**SCENARIO, "expect": {"cancelled": ["B"], "reply_excludes": ["9,999.00"], "asks_confirm": True}})
    assert grade(run) == []
    run.transcript[-1]["text"] += " 9999.00"
    assert {f.grader for f in grade(run)} == {"reply_excludes"}
    never = record({**SCENARIO, "expect": {"cancelled": [], "may_delete": ["B"], "asks_confirm": False}})
    never.after = never.before
    assert {f.grader for f in grade(never)} == {"asks_confirm"}


def test_an_unquoted_yes_key_and_events_load(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("""
id: weak-then-yes
now: "2026-11-24T10:30:00+08:00"
account: {cash: "1000000.00"}
orders: [{ref: A, symbol: "600519", side: BUY, qty: 100, limit_price: "1650.00", at: "10:05:00"}]
user: ["撤掉刚才那单", "好", "没问题，撤吧"]
yes: ["没问题，撤吧"]
events:
  - after_turn: 1
    prices: [{symbol: "600519", price: "1660.00"}]
    clock: {advance_seconds: 60}
expect: {cancelled: [A], reply_excludes: ["已撤单"], asks_confirm: true}
""", encoding="utf-8")
    suite = load_suite(tmp_path)
    assert suite.problems == []
    [scenario] = suite.scenarios
    assert scenario.yes == ["没问题，撤吧"]
    assert scenario.events[0].after_turn == 1
    assert scenario.events[0].clock == {"advance_seconds": 60}


def test_cancelled_counts_only_orders_the_assistant_cancelled() -> None:
    run = record(before={REFS["A"]: {"state": "WORKING"}, REFS["B"]: {"state": "CANCELLED"}})
    assert "cancelled" in graders_failing(run)


def test_asks_choice_is_checked_both_ways() -> None:
    scenario = Scenario.model_validate({**SCENARIO, "expect": {"cancelled": ["B"], "asks_choice": True}})
    run = record(scenario=scenario)
    assert "asks_choice" in graders_failing(run)


def test_pass_hat_k_is_the_mean_of_c_choose_k_over_n_choose_k() -> None:
    outcomes = {"a": [True, True, False], "b": [True, True, True]}
    assert pass_hat_k(outcomes, 1) == pytest.approx((2 / 3 + 1) / 2)
    assert pass_hat_k(outcomes, 2) == pytest.approx((1 / 3 + 1) / 2)
    assert pass_hat_k(outcomes, 3) == pytest.approx((0 + 1) / 2)


def test_malformed_scenarios_are_named_by_file_scenario_and_field(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(
        "- id: ok\n  now: '2026-11-24T10:30:00+08:00'\n  user: ['hi']\n  expect: {cancelled: []}\n",
        encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(
        "- id: no-user\n  now: '2026-11-24T10:30:00+08:00'\n  expect: {cancelled: [Z]}\n"
        "- id: ok\n  now: '2026-11-24T10:30:00+08:00'\n  user: ['x']\n  expect: {cancelled: []}\n"
        "- [not, a, mapping]\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    suite = load_suite(tmp_path)
    described = [str(problem) for problem in suite.problems]
    assert any("bad.yaml scenario no-user: user" in text for text in described)
    assert any("good.yaml scenario ok: id: also used in bad.yaml" in text for text in described)
    assert any("bad.yaml scenario #3" in text for text in described)
    assert any("broken.yaml: yaml" in text for text in described)
    assert [scenario.source for scenario in suite.scenarios] == ["bad.yaml"]


def test_the_command_exits_2_on_a_malformed_suite_and_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("- id: x\n  now: '2026-11-24T10:30:00+08:00'\n  user: []\n"
                                       "  expect: {cancelled: []}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "scripts.evals", "run", str(tmp_path), "--out",
                             str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 2
    assert "bad.yaml scenario x: user" in result.stderr
