"""`python3 -m tools.package`: build `dist/a-share-orders.skill` (a zip of the skill) and install it.

Developer tooling: it lives beside the skill, not in it (`scripts/` is what the archive ships).

The archive holds what a skill host needs — SKILL.md, references/, run.py (the launcher, which reads
pyproject.toml for the dependencies), the `scripts` package with the paper broker and its data, the license
notes — under one folder named after the skill. Tests, evaluation suites,
caches, databases and cassettes stay out.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKILL_NAME = "a-share-orders"
INCLUDED = ("SKILL.md", "run.py", "references", "scripts", "README.md", "pyproject.toml", "LICENSE", "NOTICE")
EXCLUDED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "cassettes", "tests", ".broker",
                 "evals"}  # the evaluation harness is for developers, not for a skill host
EXCLUDED_SUFFIXES = {".pyc", ".pyo", ".db", ".db-wal", ".db-shm", ".sqlite", ".skill", ".zip"}


def skill_files(root: Path = ROOT) -> Iterator[Path]:
    """The files that make up the skill, relative to the repository root, in a stable order."""
    for name in INCLUDED:
        path = root / name
        if path.is_file():
            yield path.relative_to(root)
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(root)
                if (file.is_file() and not EXCLUDED_DIRS.intersection(relative.parts)
                        and file.suffix not in EXCLUDED_SUFFIXES):
                    yield relative


def build(output: Path, root: Path = ROOT) -> Path:
    """Write the archive; every entry sits under `a-share-orders/`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in skill_files(root):
            archive.write(root / relative, f"{SKILL_NAME}/{relative.as_posix()}")
    return output


def install(archive: Path, skills_dir: Path, replace: bool) -> Path:
    """Unpack the archive into `skills_dir/a-share-orders` (an existing copy only with `replace`)."""
    target = skills_dir / SKILL_NAME
    if target.exists() and not replace:
        raise FileExistsError(f"{target} exists; pass --replace to overwrite it")
    skills_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=skills_dir) as staging, zipfile.ZipFile(archive) as bundle:
        for member in bundle.namelist():
            # Refuse entries that would land outside the skill folder (zip slip).
            if not (Path(staging) / member).resolve().is_relative_to(Path(staging).resolve()):
                raise ValueError(f"unsafe path in archive: {member}")
        bundle.extractall(staging)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(Path(staging) / SKILL_NAME), target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.package", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / f"{SKILL_NAME}.skill",
                        help="where to write the archive (default: dist/a-share-orders.skill)")
    parser.add_argument("--install", type=Path, metavar="SKILLS_DIR",
                        help="also unpack it into this skills folder, e.g. ~/.claude/skills")
    parser.add_argument("--replace", action="store_true", help="overwrite an installed copy")
    args = parser.parse_args(argv)
    archive = build(args.output)
    print(f"built {archive} ({archive.stat().st_size // 1024} KiB)", file=sys.stderr)
    if args.install is not None:
        try:
            target = install(archive, args.install.expanduser(), args.replace)
        except FileExistsError as error:
            print(f"not installed: {error}", file=sys.stderr)
            return 1
        print(f"installed {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
