"""`python -m tools.package` builds an installable skill archive with nothing but the skill in it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.package import SKILL_NAME, build, install

ROOT = Path(__file__).resolve().parents[2]


def test_archive_holds_the_skill_under_its_name_and_leaves_tests_caches_and_databases_out(tmp_path: Path) -> None:
    (ROOT / ".broker").mkdir(exist_ok=True)
    stray_db = ROOT / ".broker" / "package-test.db"
    stray_db.write_text("not for the archive")
    try:
        names = zipfile.ZipFile(build(tmp_path / "a.skill")).namelist()
    finally:
        stray_db.unlink()
    assert f"{SKILL_NAME}/SKILL.md" in names
    assert f"{SKILL_NAME}/references/cancel-order.md" in names
    assert f"{SKILL_NAME}/scripts/_http.py" in names
    assert f"{SKILL_NAME}/scripts/broker/data/instruments.csv" in names
    assert f"{SKILL_NAME}/NOTICE" in names
    assert f"{SKILL_NAME}/run.py" in names  # the launcher, and the pyproject.toml it reads the dependencies from
    assert f"{SKILL_NAME}/pyproject.toml" in names
    assert all(name.startswith(f"{SKILL_NAME}/") for name in names)
    for unwanted in ("/tests/", "__pycache__", ".db", "cassettes", "/evals/", ".venv", "/bench/"):
        assert not [name for name in names if unwanted in name], unwanted


def test_installed_skill_validates_and_its_commands_run_from_another_folder(
    tmp_path: Path, broker_url: str, load_world
) -> None:
    from skills_ref.validator import validate

    target = install(build(tmp_path / "a.skill"), tmp_path / "skills", replace=False)
    assert target == tmp_path / "skills" / SKILL_NAME
    assert validate(target) == []
    load_world()
    from tests.conftest import TEST_TOKEN

    env = {**os.environ, "TRADING_API_URL": broker_url, "TRADING_API_TOKEN": TEST_TOKEN}
    result = subprocess.run([sys.executable, "-m", "scripts.trade", "market"], cwd=target, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert '"phase":"CONTINUOUS"' in result.stdout


def test_install_refuses_to_overwrite_without_replace(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.skill")
    install(archive, tmp_path / "skills", replace=False)
    with pytest.raises(FileExistsError):
        install(archive, tmp_path / "skills", replace=False)
    assert install(archive, tmp_path / "skills", replace=True).is_dir()
