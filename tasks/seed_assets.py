"""Seed a Space with its app kind's assets: the files kind.yml's `assets` lists, copied byte for byte from the kind's
folder to the same path in the Space (a Copier task, after copy and update; Copier renders text, these are binary).

A file that exists is never overwritten, as `_skip_if_exists` keeps examples/ and assets/: it is the author's.

    python tasks/seed_assets.py <app_kind>      # run by Copier in the Space's folder
"""

import shutil
import sys
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE_DIR))

from extensions.kinds import KINDS_DIR, load_kinds


def seed(app_kind: str, space_dir: Path, kinds_dir: Path = KINDS_DIR) -> list[Path]:
    """Copy the kind's missing assets into space_dir; return the paths written."""
    written = []
    for name in load_kinds(kinds_dir)[app_kind]["assets"]:
        target = space_dir / name
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(kinds_dir / app_kind / name, partial)
        partial.replace(target)  # never a half-copied asset under the real name
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    seed(sys.argv[1], Path.cwd())
