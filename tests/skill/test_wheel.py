"""The wheel: built from this checkout, installed into a fresh virtual environment, it is the import package
`a_share_orders` with every subpackage (no top-level `scripts`), carries its templates, data and the skill's
documents, and `a-share-orders trade orders` works against `a-share-orders broker --demo`.

The dependencies come from the package index pip is configured with (PyPI, or this machine's mirror); pip's
cache keeps a second run quick. The sdist is built too and must carry what the wheel is built from.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from scripts import __version__

ROOT = Path(__file__).resolve().parents[2]
SUBPACKAGES = sorted(
    "a_share_orders" + ("." + ".".join(path.relative_to(ROOT / "scripts").parts) if path != ROOT / "scripts" else "")
    for path in [ROOT / "scripts", *(ROOT / "scripts").rglob("*")]
    if path.is_dir() and (path / "__init__.py").is_file()
)
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(out)],
                   check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh environment with the wheel and all its extras."""
    home = tmp_path_factory.mktemp("wheel-env")
    venv.EnvBuilder(with_pip=True).create(home)
    bin_dir = home / ("Scripts" if os.name == "nt" else "bin")
    wheel = next(dist.glob("a_share_orders-*.whl"))
    result = subprocess.run([bin_dir / "python", "-m", "pip", "install", "--quiet", f"{wheel}[all]"],
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return bin_dir


def test_the_wheel_holds_the_package_under_its_own_name_with_templates_data_and_documents(dist: Path) -> None:
    names = zipfile.ZipFile(next(dist.glob("a_share_orders-*.whl"))).namelist()
    assert not [name for name in names if name.startswith("scripts/")]
    for expected in ("a_share_orders/messages/preview.j2", "a_share_orders/messages/errors/BAD_RESPONSE.j2",
                     "a_share_orders/broker/data/instruments.csv", "a_share_orders/assistant/lexicon.toml",
                     "a_share_orders/_skill/SKILL.md", "a_share_orders/_skill/references/cancel-order.md",
                     "a_share_orders/cli.py"):
        assert expected in names or any(name.endswith(expected.rsplit("/", 1)[-1]) for name in names), expected
    for source in (ROOT / "scripts").rglob("*"):
        if source.is_file() and "__pycache__" not in source.parts and source.suffix not in {".pyc", ".db"}:
            wanted = "a_share_orders/" + source.relative_to(ROOT / "scripts").as_posix()
            assert wanted in names, f"{wanted} is missing from the wheel"
    shipped = {name for name in names if name.startswith("a_share_orders/") and "/_skill/" not in name}
    for name in shipped:  # nothing stale from an earlier build
        assert (ROOT / "scripts" / name.removeprefix("a_share_orders/")).is_file(), f"{name} has no source"
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "a-share-orders = a_share_orders.cli:main" in zipfile.ZipFile(
        next(dist.glob("*.whl"))).read(entry_points).decode()


def test_the_installed_package_imports_every_subpackage_and_no_top_level_scripts(installed: Path,
                                                                                 tmp_path: Path) -> None:
    code = ("import importlib, importlib.util, json, sys; "
            f"[importlib.import_module(name) for name in {SUBPACKAGES!r}]; "
            "from a_share_orders.assistant.prompt import SKILL_DIR, system_prompt; "
            "import a_share_orders; "
            "print(json.dumps({'scripts': importlib.util.find_spec('scripts') is not None, "
            "'version': a_share_orders.__version__, 'skill_dir': str(SKILL_DIR), 'prompt': len(system_prompt())}))")
    result = subprocess.run([installed / "python", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    assert found["scripts"] is False
    assert found["version"] == __version__
    assert found["skill_dir"].endswith(os.path.join("a_share_orders", "_skill"))
    assert found["prompt"] > 3000  # built from the shipped SKILL.md and references
    version = subprocess.run([installed / "a-share-orders", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"a-share-orders {__version__}"


def test_the_console_script_lists_orders_of_its_own_demo_broker(installed: Path, tmp_path: Path) -> None:
    port, token = free_port(), "wheel-test-token"
    env = {**os.environ, "TRADING_API_TOKEN": token, "TRADING_API_URL": f"http://127.0.0.1:{port}"}
    env.pop("PYTHONPATH", None)
    broker = subprocess.Popen([installed / "a-share-orders", "broker", "--demo", "--port", str(port),
                               "--db", str(tmp_path / "demo.db")], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert broker.poll() is None, broker.stderr.read() if broker.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/market/status",
                             headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the demo broker did not start"
            time.sleep(0.2)
        result = subprocess.run([installed / "a-share-orders", "trade", "orders"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        orders = json.loads(result.stdout)["orders"]
        assert orders
        assert all(order["order_id"].startswith("ord_") for order in orders)
    finally:
        broker.terminate()
        broker.wait(timeout=30)


def test_the_sdist_carries_what_the_wheel_is_built_from(tmp_path: Path) -> None:
    code = ("import setuptools.build_meta as backend, sys; "
            f"print(backend.build_sdist({str(tmp_path)!r}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            check=False)
    if result.returncode != 0 and "No module named 'setuptools'" in result.stderr:
        pytest.skip("setuptools is not in this environment")
    assert result.returncode == 0, result.stderr[-3000:]
    sdist = tmp_path / result.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for expected in ("SKILL.md", "references/cancel-order.md", "setup.py", "pyproject.toml", "run.py",
                     "scripts/messages/errors/BAD_RESPONSE.j2", "scripts/broker/data/instruments.csv",
                     "scripts/assistant/lexicon.toml", "LICENSE", "NOTICE"):
        assert expected in names, expected
    assert not [name for name in names if name.startswith("tests/") or "__pycache__" in name]
