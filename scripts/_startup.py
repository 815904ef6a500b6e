"""Start-up for the command-line faces (`trade`, `chat`): every run is a fresh process that pays for all it imports.

A leaf: imports nothing of the project. The library itself (`_http`) imports httpx plainly; skipping part of it is
the business of a face that knows it never uses that part.
"""

from __future__ import annotations

import sys


def import_httpx_without_its_cli() -> None:
    """Import httpx without its optional command-line tool.

    httpx imports that tool (rich, click, pygments: ~60 ms) whenever they are installed, and the skill installs
    rich. A face never runs `httpx.main`, so the import is skipped (httpx falls back to its own stub `main`); the
    entry is removed at once, so a later `import httpx._main` still works. A no-op once httpx is imported."""
    if "httpx" in sys.modules:
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    finally:
        if sys.modules.get("httpx._main", False) is None:
            del sys.modules["httpx._main"]
