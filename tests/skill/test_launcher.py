"""`python3 run.py`: the skill's commands work on a bare python3, first run included, with nothing installed into
that Python; a bootstrap that cannot succeed is one JSON line and exit 9, never a traceback.

The bare Python here is a fresh virtual environment made without pip and without the project's dependencies,
marked EXTERNALLY-MANAGED (pip honours that marker only outside a virtual environment, so the test also checks
that nothing at all was installed into it). Its first run really installs httpx, pydantic and jinja2, the way
a user's does (from the package index pip is configured with; this machine's pip configuration applies).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import TEST_TOKEN
from tools.package import build, install

ROOT = Path(__file__).resolve().parents[2]
EXIT_ENVIRONMENT = 9


def load_launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("skill_launcher", ROOT / "run.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A python3 with nothing but the standard library: no pip, no httpx, marked externally managed."""
    home = tmp_path_factory.mktemp("bare-python")
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(home)
    python = home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    stdlib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    (Path(stdlib).parent / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=this Python is managed by the system: install with your package manager\n")
    for module in ("httpx", "pydantic", "jinja2", "pip"):
        assert subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False).returncode != 0
    return python


def site_packages(python: Path) -> set[str]:
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return {path.name for path in Path(purelib).iterdir()}


def skill_md_first_command(skill_dir: Path) -> str:
    """The first command SKILL.md gives, with `${CLAUDE_SKILL_DIR}` filled in as Claude Code does."""
    text = (skill_dir / "SKILL.md").read_text(encoding="utf-8")
    command = re.search(r"^```bash\n(.*?)^```", text, re.S | re.M).group(1).strip()
    assert "${CLAUDE_SKILL_DIR}" in command
    assert "run.py" in command
    return command.replace("${CLAUDE_SKILL_DIR}", str(skill_dir))


def bare_env(python: Path, cache: Path, broker_url: str, **extra: str) -> dict[str, str]:
    keep = {name: value for name, value in os.environ.items()
            if name.startswith(("PIP_", "UV_", "SSL_", "REQUESTS_CA", "HTTP", "NO_PROXY", "no_proxy", "http"))
            or name in {"SYSTEMROOT", "TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL"}}
    return {**keep, "PATH": str(python.parent) + os.pathsep + "/usr/bin:/bin", "HOME": str(cache.parent),
            "XDG_CACHE_HOME": str(cache), "TRADING_API_URL": broker_url, "TRADING_API_TOKEN": TEST_TOKEN, **extra}


def test_first_run_of_the_skill_md_command_on_a_bare_externally_managed_python_prepares_its_own_environment(
    bare_python: Path, tmp_path: Path, broker_url: str, load_world
) -> None:
    refs = load_world()
    skill_dir = install(build(tmp_path / "a.skill"), tmp_path / "skills", replace=False)
    command = skill_md_first_command(skill_dir)
    before = site_packages(bare_python)
    env = bare_env(bare_python, tmp_path / "cache", broker_url)
    # Two first runs at once: the lock lets one build while the other waits, and both answer.
    runs = [subprocess.Popen(["bash", "-c", command], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    for status, stdout, stderr in results:
        assert status == 0, stderr[-3000:]
        orders = json.loads(stdout)["orders"]
        assert {order["order_id"] for order in orders} == {refs["A"], refs["B"]}
        assert "Traceback" not in stderr
    assert sum("first run" in stderr for _, _, stderr in results) == 1
    environments = [path for path in (tmp_path / "cache" / "a-share-orders" / "envs").iterdir() if path.is_dir()]
    assert len(environments) == 1
    assert (environments[0] / ".ready").is_file()
    assert site_packages(bare_python) == before, "nothing may be installed into the user's Python"

    again = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode == 0, again.stderr
    assert "first run" not in again.stderr
    assert json.loads(again.stdout)["orders"]


def test_a_bootstrap_without_a_package_index_is_one_json_line_and_exit_9(
    bare_python: Path, tmp_path: Path, broker_url: str
) -> None:
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    env = bare_env(bare_python, tmp_path / "cache", broker_url, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(empty),
                   PIP_CONFIG_FILE=os.devnull)
    result = subprocess.run([bare_python, ROOT / "run.py", "trade", "orders", "--status", "NEW,WORKING"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == EXIT_ENVIRONMENT
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    error = json.loads(lines[0])["error"]
    assert error["code"] == "BOOTSTRAP_FAILED"
    assert error["recovery_hint"] == "retry_later"
    assert "没有向交易接口发送任何请求" in error["message"]
    assert "Traceback" not in result.stderr
    assert not [path for path in (tmp_path / "cache" / "a-share-orders" / "envs").iterdir() if path.is_dir()], \
        "a failed environment is removed, so the next run starts over"


@pytest.mark.parametrize("breakage", ["import sys; sys.modules['venv'] = None",  # a Python without venv
                                      # Debian without python3-venv: creating the environment fails in ensurepip
                                      "import subprocess, venv; venv.EnvBuilder._setup_pip = lambda self, context: "
                                      "(_ for _ in ()).throw(subprocess.CalledProcessError(1, 'ensurepip'))"])
def test_a_python_that_cannot_make_an_environment_is_one_json_line_naming_what_to_install(
    bare_python: Path, tmp_path: Path, broker_url: str, breakage: str
) -> None:
    code = (f"{breakage}; import runpy; sys.argv = ['run.py', 'trade', 'market']; "
            f"runpy.run_path({str(ROOT / 'run.py')!r}, run_name='__main__')")
    env = bare_env(bare_python, tmp_path / "cache", broker_url)
    result = subprocess.run([bare_python, "-c", f"import sys; {code}"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == EXIT_ENVIRONMENT, result.stderr
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["recovery_hint"]) == ("BOOTSTRAP_FAILED", "contact_support")
    assert "python3-venv" in error["message"]
    assert "Traceback" not in result.stderr


def test_a_python_that_has_the_dependencies_runs_the_command_directly(tmp_path: Path, broker_url: str,
                                                                      load_world) -> None:
    load_world()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "TRADING_API_URL": broker_url,
           "TRADING_API_TOKEN": TEST_TOKEN}
    result = subprocess.run([sys.executable, ROOT / "run.py", "trade", "market"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["phase"] == "CONTINUOUS"
    assert not (tmp_path / "cache").exists(), "no environment is prepared when this Python has what is needed"


def test_usage_errors_exit_2_and_help_needs_no_environment(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    help_text = subprocess.run([sys.executable, ROOT / "run.py", "--help"], env=env, capture_output=True,
                               text=True, check=False)
    assert help_text.returncode == 0
    assert "run.py" in help_text.stdout
    for argv in ([], ["rm", "-rf"], ["--extra"]):
        result = subprocess.run([sys.executable, ROOT / "run.py", *argv], env=env, capture_output=True, text=True,
                                check=False)
        assert result.returncode == 2, argv
        assert result.stdout == ""


def test_each_command_asks_for_its_own_extra_and_the_key_follows_the_requirements() -> None:
    launcher = load_launcher()
    core = launcher.requirements([])
    assert [launcher._normal(launcher.REQUIREMENT.match(r).group(1)) for r in core] == ["httpx", "jinja2", "pydantic"]
    chat = launcher.requirements(["chat"])
    names = {launcher.REQUIREMENT.match(r).group(1) for r in chat}
    assert {"anthropic", "fastapi", "uvicorn", "rich", "httpx"} <= names
    assert not any(name.startswith("a-share-orders") for name in names)
    assert launcher.parse(["mcp"]) == (["mcp"], ["mcp"])
    assert launcher.parse(["trade", "orders", "--table"]) == (["table"], ["trade", "orders", "--table"])
    assert launcher.parse(["--extra", "mcp", "trade", "market"]) == (["mcp"], ["trade", "market"])
    assert launcher.environment_key(core) != launcher.environment_key(chat)


@pytest.mark.parametrize(("requirement", "expected"), [("pytest>=1.0", True), ("pytest>=999", False),
                                                       ("pytest<999,>=1", True), ("no-such-dist-a-share>=1", False)])
def test_an_installed_requirement_is_checked_against_its_version(requirement: str, expected: bool) -> None:
    assert load_launcher().satisfied(requirement) is expected


def test_stdin_stdout_and_the_exit_status_are_the_commands_own(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ANTHROPIC_BASE_URL", None)
    chat = subprocess.run([sys.executable, ROOT / "run.py", "chat", "--engine", "offline", "--db",
                           str(tmp_path / "demo.db")], input="看看持仓\n", cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert chat.returncode == 0, chat.stderr
    assert "持仓" in chat.stdout
    usage = subprocess.run([sys.executable, ROOT / "run.py", "trade", "cancel"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert usage.returncode == 2  # argparse's, from inside the command


def test_a_first_build_is_not_cut_off_by_a_client_that_gives_up() -> None:
    import signal

    launcher = load_launcher()
    before = signal.getsignal(signal.SIGTERM)
    with launcher._uninterrupted():
        os.kill(os.getpid(), signal.SIGTERM)  # an MCP client's start-up timeout, while the environment is built
    # still here: the signal was ignored while building
    assert signal.getsignal(signal.SIGTERM) == before, "the command itself gets the usual handling back"


@pytest.mark.skipif(os.name == "nt", reason="the stand-in uv is a shell script")
def test_uv_builds_the_environment_when_it_is_on_path(bare_python: Path, tmp_path: Path, broker_url: str,
                                                      load_world) -> None:
    """A stand-in `uv` that records its arguments and does the work with venv and pip, as uv would."""
    load_world()
    tools = tmp_path / "tools"
    tools.mkdir()
    log = tmp_path / "uv.log"
    (tools / "uv").write_text(f"""#!/bin/sh
echo "$@" >> {log}
if [ "$1" = venv ]; then exec "$4" -m venv "$5"; fi
if [ "$1" = pip ]; then python="$5"; shift 5; exec "$python" -m pip install --quiet "$@"; fi
exit 2
""")
    (tools / "uv").chmod(0o755)
    env = bare_env(bare_python, tmp_path / "cache", broker_url)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    result = subprocess.run([bare_python, ROOT / "run.py", "trade", "market"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    calls = log.read_text().splitlines()
    assert calls[0].startswith("venv --quiet --python ")
    assert calls[1].startswith("pip install --quiet --python ")
    assert calls[1].endswith("httpx>=0.27 jinja2>=3.1 pydantic>=2.7")


def test_a_python_older_than_3_11_gets_the_json_error_not_a_syntax_error(tmp_path: Path) -> None:
    import shutil

    def runs(python: str | None) -> bool:  # a version manager's shim may be there without its Python
        return python is not None and subprocess.run(
            [python, "-c", "import sys; sys.exit(sys.version_info >= (3, 11))"], capture_output=True,
            check=False).returncode == 0

    candidates = [shutil.which(f"python3.{minor}") for minor in (10, 9, 8)]
    candidates += sorted(str(path) for path in (Path.home() / ".pyenv" / "versions").glob("3.*/bin/python"))
    old = next(filter(runs, candidates), None)
    if old is None:
        pytest.skip("no working python3.8-3.10 on PATH to try run.py with")
    result = subprocess.run([old, ROOT / "run.py", "trade", "market"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, check=False, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == EXIT_ENVIRONMENT, result.stderr
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["recovery_hint"]) == ("BOOTSTRAP_FAILED", "contact_support")
    assert "3.11" in error["message"]
