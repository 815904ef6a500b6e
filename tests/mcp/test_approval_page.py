"""The approval page's HTML: every value from the broker or the preview is escaped, and only an open page has a form."""

from __future__ import annotations

from scripts.messages import render


def test_the_page_escapes_what_it_shows() -> None:
    html = render("approval_page", state="open", preview='<script>alert(1)</script> 贵州茅台"', environment="paper",
                  csrf='x"><img src=y>', action="/approve/abc", minutes_left=5, outcome=None)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<img src=y>' not in html
    assert 'name="choice" value="确认"' in html


def test_only_an_open_page_offers_the_buttons() -> None:
    for state in ("done", "declined", "changed", "expired", "used", "refused", "unknown"):
        html = render("approval_page", state=state, preview="", environment=None, csrf="", action="",
                      minutes_left=0, outcome="已撤单")
        assert "<form" not in html, state


def test_a_live_account_is_marked_on_the_page() -> None:
    html = render("approval_page", state="open", preview="⚠ 实盘账户（真实资金）：撤单将作用于真实委托。",
                  environment="live", csrf="c", action="/approve/t", minutes_left=5, outcome=None)
    assert 'class="live"' in html
    assert "⚠ 实盘账户" in html
