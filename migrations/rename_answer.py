"""Rename a question's key in a Space's answers file, keeping the author's answer.

Copier calls this from `_migrations` in copier.yml, at the "before" stage of an update, in the Space's folder:

    - version: vX.Y.Z
      when: "{{ _stage == 'before' }}"
      command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/rename_answer.py",
                "--answers-file", "{{ _copier_conf.answers_file }}", "old_key", "new_key"]

Copier reloads the answers after "before" migrations, so the new template version sees the author's old answer under
its new key instead of asking again or taking the default. The script is idempotent and tolerates half-migrated
Spaces: run twice, or on a Space whose answers file already has the new key, it changes nothing that is right already.
It needs only Python and PyYAML (a dependency of Copier, so `_copier_python` has it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"


def rename_answer(answers: dict, old: str, new: str) -> tuple[dict, str]:
    """The answers with `old` renamed to `new` (in place of `old`, so the file keeps its order), and what was done."""
    if old not in answers:
        return answers, f"nothing to do: no {old!r} answer" + (f" ({new!r} is already set)" if new in answers else "")
    if new in answers:  # half-migrated: someone already answered the new question, and that answer wins
        return {key: value for key, value in answers.items() if key != old}, f"dropped {old!r}: {new!r} is already set"
    renamed = {(new if key == old else key): value for key, value in answers.items()}
    return renamed, f"renamed answer {old!r} to {new!r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the question's key in the version being updated from")
    parser.add_argument("new", help="its key in the version being updated to")
    parser.add_argument("--answers-file", type=Path, default=Path(".copier-answers.yml"))
    args = parser.parse_args(argv)

    if not args.answers_file.is_file():
        print(f"rename_answer: {args.answers_file} not found; nothing to do")
        return 0
    answers = yaml.safe_load(args.answers_file.read_text(encoding="utf-8")) or {}
    migrated, done = rename_answer(answers, args.old, args.new)
    if migrated != answers:
        text = yaml.safe_dump(migrated, sort_keys=False, allow_unicode=True, default_flow_style=False)
        args.answers_file.write_text(HEADER + text, encoding="utf-8")
    print(f"rename_answer: {done} in {args.answers_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
