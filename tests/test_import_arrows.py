"""The arrows between the parts of `scripts/` (docs/architecture.md, "Which module may import which"), read from
the source of every module, function-level imports included: an arrow the other way fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
# part → the parts it may import (besides itself). Faces only: another part is imported as `scripts.<part>`.
ALLOWED: dict[str, set[str]] = {
    "__init__": {"_version"},
    "_version": set(),
    "_startup": set(),  # start-up helpers of the command-line faces (a leaf)
    "models": set(),
    "messages": set(),
    "audit": set(),
    "_http": {"models", "_version"},
    "orders": {"_http", "models", "messages"},
    "assistant": {"_http", "models", "messages", "orders", "audit"},
    "broker": {"models"},
    "trade": {"_http", "models", "messages", "orders", "audit", "_startup"},
    "evals": {"_http", "models", "messages", "assistant", "broker", "audit"},
    "chat": {"_http", "models", "messages", "assistant", "broker", "audit", "_startup"},  # a composition root
    # the MCP server: the same road as the command line (and the version it announces)
    "mcp": {"_http", "models", "messages", "orders", "audit", "_version"},
    # the console script `a-share-orders`: a composition root that dispatches to each part's command line
    "cli": {"_version", "chat", "trade", "broker", "mcp", "evals"},
    "__main__": {"cli"},  # `python -m a_share_orders`
}
# Packages whose insides other parts never import: they go through the package's `__all__`.
FACED = {"assistant", "broker", "evals", "orders"}


def part_of(module: str) -> str:
    return module.split(".")[1]


def absolute(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module name of `from ..x import y` in `path` (the code imports itself relatively, so that the
    wheel can install it as `a_share_orders`)."""
    if node.level == 0:
        return node.module or ""
    package = list(path.relative_to(SCRIPTS.parent).with_suffix("").parts[:-1])
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = absolute(path, node)
            # `from .. import x` names modules of the package: each is an import of its own
            found += [f"{module}.{alias.name}" for alias in node.names] if module == "scripts" else [module]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name.startswith("scripts.")]


def test_the_code_imports_itself_relatively() -> None:
    """Installed from the wheel the package is `a_share_orders`: an absolute `scripts.` import would break there."""
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert not (node.module or "").startswith("scripts"), f"{path}: import {node.module} relatively"
            if isinstance(node, ast.Import):
                assert not any(alias.name.startswith("scripts") for alias in node.names), path


MODULES = sorted(path for path in SCRIPTS.rglob("*.py") if "__pycache__" not in path.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(SCRIPTS.parent)))
def test_every_import_follows_an_allowed_arrow(path: Path) -> None:
    relative = path.relative_to(SCRIPTS.parent).with_suffix("")
    part = relative.parts[1]
    assert part in ALLOWED, f"{relative}: a new part of scripts/: add it to docs/architecture.md and ALLOWED"
    for name in imports_of(path):
        target = part_of(name)
        if target == part:
            continue
        assert target in ALLOWED[part], f"{relative} imports {name}: no arrow {part} → {target}"
        if target in FACED:
            # A part's command line (`__main__`) belongs to its face: the console script dispatches to it.
            assert name in {f"scripts.{target}", f"scripts.{target}.__main__"}, (
                f"{relative} imports {name}: use the face scripts.{target}")
