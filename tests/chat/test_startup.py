"""What the chat does ahead so that its first answer is quick, and that doing it ahead changes nothing else.

Each check that depends on what a process has imported or built runs in a fresh interpreter: this test process
has long since imported and built everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts import messages
from scripts._http import Client
from scripts.assistant import Assistant

ROOT = Path(__file__).resolve().parents[2]


def fresh_python(code: str, stdin: str = "") -> str:
    result = subprocess.run([sys.executable, "-c", code], input=stdin, cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_httpx_is_imported_without_its_command_line_tool_and_that_tool_can_still_be_imported_later() -> None:
    code = ("import sys\n"
            "from scripts._startup import import_httpx_without_its_cli\n"
            "import_httpx_without_its_cli()\n"
            "import httpx\n"
            "print('httpx._main' in sys.modules, 'click' in sys.modules, callable(httpx.main))\n"
            "import httpx._main\n"
            "print('httpx._main' in sys.modules)\n")
    assert fresh_python(code).split() == ["False", "False", "True", "True"]


def test_the_first_reply_templates_exist_so_prepare_compiles_what_it_says() -> None:
    missing = [name for name in messages.FIRST_REPLY_TEMPLATES if not messages.has_template(name)]
    assert missing == []
    messages.prepare()


def test_assistant_prepare_sends_no_request() -> None:
    # Nothing listens on port 9 of this machine's loopback (discard): any request would end in NETWORK_ERROR.
    with Client(base_url="http://127.0.0.1:9", token="unused-token", max_retries=0) as client:
        Assistant(client, engine="offline").prepare()
