"""Build hooks that pyproject.toml cannot express; all metadata lives in pyproject.toml.

- The wheel's import package is `a_share_orders`, built from the folder `scripts/` with every subpackage
  (found here, so a new one cannot be forgotten).
- SKILL.md and references/ are shipped inside it as `a_share_orders/_skill/`: the Claude engine builds its
  system prompt from them (scripts/assistant/prompt.py), and outside a checkout they are not beside the code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
IMPORT_NAME = "a_share_orders"
SKILL_DOCUMENTS = ("SKILL.md", "references")


class BuildWithSkillDocuments(build_py):
    """build_py, plus a copy of the skill's documents into the package (not for editable installs: there the
    prompt reads them from the checkout)."""

    def run(self) -> None:
        editable = getattr(self, "editable_mode", False)
        if not editable:
            # An in-tree build reuses build/lib: start it empty, so a module since removed or renamed in scripts/
            # cannot ride along into the wheel.
            shutil.rmtree(Path(self.build_lib) / IMPORT_NAME, ignore_errors=True)
        super().run()
        if editable:
            return
        target = Path(self.build_lib) / IMPORT_NAME / "_skill"
        for name in SKILL_DOCUMENTS:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True)
            elif source.is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(
    packages=[IMPORT_NAME + name.removeprefix("scripts") for name in find_packages(include=["scripts", "scripts.*"])],
    cmdclass={"build_py": BuildWithSkillDocuments},
)
