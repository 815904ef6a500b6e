"""The skill's command line needs only the core dependencies (httpx, pydantic, jinja2 and what they pull in):
run in a process where every other installed package is blocked, `trade --help`, a listing, a preview and a
cancel still work, and nothing else was imported. `--table` without rich is one JSON error and exit 9.

Also: each extra of pyproject.toml names the packages the console script checks before a subcommand runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
CORE = ("httpx", "pydantic", "jinja2")

# Runs in a child process: block every top-level module that is neither the standard library, nor the project,
# nor provided by the core distributions and their own requirements; then run the command line.
BLOCKER = r'''
import sys
at_start = {name.partition(".")[0] for name in sys.modules}  # the interpreter's own start-up (site, .pth files)
import importlib.metadata as metadata, json, re

def closure(names):
    seen, pending = set(), list(names)
    while pending:
        name = re.sub(r"[-_.]+", "-", pending.pop()).lower()
        if name in seen:
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # a requirement under a marker this Python does not meet
            continue
        seen.add(name)
        for requirement in requires:
            if "extra ==" not in requirement:
                pending.append(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))
    return seen

allowed_dists = closure(json.loads(sys.argv[1]))
allowed = set(sys.stdlib_module_names) | {"scripts", "a_share_orders"}
for module, dists in metadata.packages_distributions().items():
    if {re.sub(r"[-_.]+", "-", d).lower() for d in dists} & allowed_dists:
        allowed.add(module)

class Blocker:
    blocked = []
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in allowed and not top.startswith("_"):
            Blocker.blocked.append(top)
            raise ModuleNotFoundError(f"blocked: {name} is not a core dependency", name=name)
        return None

sys.meta_path.insert(0, Blocker())
sys.argv = ["trade", *sys.argv[2:]]
from scripts.trade import main
try:
    status = main()
except SystemExit as exit:
    status = exit.code
loaded = sorted({name.partition(".")[0] for name in sys.modules if not name.startswith("_")} - allowed - at_start)
print(json.dumps({"status": status, "loaded_outside_core": loaded, "blocked": sorted(set(Blocker.blocked))}),
      file=sys.stderr)
sys.exit(status)
'''


def run_with_core_only(broker_url: str, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = {"TRADING_API_URL": broker_url, "TRADING_API_TOKEN": TEST_TOKEN, "PATH": "/usr/bin:/bin",
           "TRADING_AUDIT_LOG": os.environ["TRADING_AUDIT_LOG"]}  # the session's file, not the user's
    result = subprocess.run([sys.executable, "-c", BLOCKER, json.dumps(CORE), *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    report = json.loads(result.stderr.strip().splitlines()[-1]) if result.stderr.strip() else {}
    return result, report


def test_the_command_line_runs_on_the_core_dependencies_alone(broker_url: str, load_world) -> None:
    refs = load_world()
    for args in (["--help"], ["orders", "--status", "NEW,WORKING"], ["cancel", refs["A"], "--dry-run"],
                 ["cancel", refs["A"], "--yes"], ["account"]):
        result, report = run_with_core_only(broker_url, *args)
        assert report.get("status") == 0, (args, result.stdout, result.stderr[-2000:])
        assert report["loaded_outside_core"] == [], args
    result, _ = run_with_core_only(broker_url, "order", refs["A"])
    assert json.loads(result.stdout)["state"] == "CANCELLED"


def test_table_without_rich_is_one_json_error_before_any_request(broker_url: str, load_world) -> None:
    refs = load_world()
    result, report = run_with_core_only(broker_url, "cancel", refs["A"], "--yes", "--table")
    assert report["status"] == 9
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["recovery_hint"]) == ("DEPENDENCY_MISSING", "contact_support")
    assert "a-share-orders[table]" in error["details"]["install"]
    assert "Traceback" not in result.stderr
    result, _ = run_with_core_only(broker_url, "order", refs["A"])
    assert json.loads(result.stdout)["state"] == "WORKING", "nothing was sent"


def test_the_console_scripts_extras_are_pyprojects() -> None:
    from scripts.cli import CORE as CLI_CORE
    from scripts.cli import EXTRA_MODULES

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    import_name = {"pyyaml": "yaml"}

    def modules(requirements: list[str]) -> set[str]:
        found: set[str] = set()
        for requirement in requirements:
            name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower()
            extras = re.search(r"\[([^\]]+)\]", requirement)
            if name == "a-share-orders":
                for extra in extras.group(1).split(","):
                    found |= modules(project["optional-dependencies"][extra.strip()])
            else:
                found.add(import_name.get(name, name))
        return found

    assert set(CLI_CORE) == modules(project["dependencies"]) == set(CORE)
    for extra, names in EXTRA_MODULES.items():
        assert set(names) == modules(project["optional-dependencies"][extra]), extra
