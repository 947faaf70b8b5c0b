"""Keep an author's edits to a file that a release moves or removes.

`copier update` deletes a file that the new template version no longer has, edited or not. Copier calls this from
`_migrations` in copier.yml, at the "before" stage of an update, in the Space's folder, with the version being
updated from and each such file (`OLD=NEW` for a file that moved, `OLD` for one that is gone):

    - version: vX.Y.Z
      when: "{{ _stage == 'before' }}"
      command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/keep_edited_files.py",
                "--template", "{{ _copier_conf.src_path }}", "--from", "{{ _version_from }}",
                "durations.py=zerogpu/durations.py", "tests/test_old.py"]

A file that is as the old version shipped it needs nothing: the update replaces it. A file the author edited is
copied to `<OLD>.edited` (a name that Python, pytest and ruff leave alone), to carry the edits over by hand; so is
one whose shipped text cannot be read (better a copy too many than an edit lost). Run twice, or on a Space that has
the copy already, it changes nothing. It needs only Python and git (which Copier needs too).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

SUFFIX = ".edited"


def shipped(template: Path, ref: str, path: str) -> bytes | None:
    """The file as the template at `ref` shipped it (a plain file of template/), or None if that cannot be read."""
    run = subprocess.run(
        ["git", "-C", str(template), "show", f"{ref}:template/{path}"], capture_output=True, check=False
    )
    return run.stdout if run.returncode == 0 else None


def keep_edited(space: Path, template: Path, ref: str, old: str, new: str | None) -> str:
    """Copy `old` aside if the author edited it; say what was done, in one line."""
    path, kept = space / old, space / (old + SUFFIX)
    where = f"moves to {new}" if new else "is no longer part of the template"
    if not path.is_file():
        return f"{old}: nothing to do (not in this Space)"
    text, released = path.read_bytes(), shipped(template, ref, old)
    if text == released:
        return f"{old}: unedited; it {where}"
    if kept.is_file() and kept.read_bytes() == text:
        return f"{old}: your edits are kept in {old + SUFFIX} already"
    kept.write_bytes(text)
    why = "it held your edits" if released is not None else f"it could not be compared with {ref}'s"
    return f"{old}: it {where}; {why}, kept in {old + SUFFIX}: carry them over, then delete that copy"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="OLD[=NEW]", help="a file that moved (to NEW) or is gone")
    parser.add_argument("--template", type=Path, required=True, help="the template's git checkout")
    parser.add_argument("--from", dest="ref", required=True, help="the template version being updated from")
    args = parser.parse_args(argv)
    for entry in args.files:
        old, _, new = entry.partition("=")
        print(f"keep_edited_files: {keep_edited(Path.cwd(), args.template, args.ref, old, new or None)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
