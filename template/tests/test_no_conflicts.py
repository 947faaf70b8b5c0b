"""No conflict left behind by `copier update`: it exits 0 even when it could not merge, so this test is the alarm.

Copier marks what it could not merge with lines that start with "<<<<<<< before updating", "=======" and
">>>>>>> after updating" (and leaves *.rej files when run with `--conflict rej`). The Space must not be pushed
until every one of them is resolved.
"""

import os
import re
from pathlib import Path

SPACE_DIR = Path(__file__).resolve().parent.parent
# Folders that are not the Space's own files: git's store, virtual environments, tools' caches.
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", ".gradio"}
MAX_BYTES = 5_000_000  # larger files are models or data, not something an update merges
# Git's markers: seven characters at the start of a line. Built from parts, so that this file holds none itself.
OURS, SEPARATOR, THEIRS, BASE = "<" * 7, "=" * 7, ">" * 7, re.escape("|" * 7)
MARKER = re.compile(rf"^(?:{OURS}(?: .*)?|{SEPARATOR}|{THEIRS}(?: .*)?|{BASE}(?: .*)?)$")

HOW_TO_RESOLVE = """\
`copier update` left conflicts that must be resolved before this Space is pushed:
{found}
For each marked block, keep the lines you want from between the markers ("before updating" is your version,
"after updating" the template's new one), then delete the three marker lines. For each .rej file, apply the
hunks it lists by hand, then delete it. `git diff` shows the update; `git add <file>` marks a file resolved.
To start over instead: `git reset --hard && git clean -fd`, then run the update again.
The template's docs/update.md ("Conflicts") has the details."""


def space_files() -> list[Path]:
    """Every file of the Space, relative to its folder, outside virtual environments and caches."""
    files = []
    for root, dirs, names in os.walk(SPACE_DIR):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not (here / d / "pyvenv.cfg").exists())
        files.extend((here / name).relative_to(SPACE_DIR) for name in sorted(names))
    return files


def conflicts() -> list[str]:
    found = []
    for relative in space_files():
        path = SPACE_DIR / relative
        if path.suffix == ".rej":
            found.append(f"  {relative}: a rejected part of the update")
            continue
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue  # images, weights and other binary files hold no markers
        found.extend(f"  {relative}:{number}: {line}" for number, line in enumerate(lines, 1) if MARKER.match(line))
    return found


def test_no_conflict_markers_or_rejected_hunks():
    found = conflicts()
    assert not found, HOW_TO_RESOLVE.format(found="\n".join(found))
