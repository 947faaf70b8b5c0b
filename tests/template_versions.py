"""Scratch clones of this template with release tags of their own, for the update tests and the update benchmark.

CI's clone may carry no tags, and released tags must never move, so nothing here touches the real ones. The working
tree (uncommitted changes included) is committed into a fresh repository and tagged v0.2.0; then the changes of a
made-up next release are applied the way a maintainer would make them (docs/releasing.md) and tagged v0.3.0.
RELEASE_0_1_0 is the real 0.1.0, from this repository's history, for the update across 0.2.0's moves.
Copier runs as the docs tell users to run it: the `copier` command line, with `--trust`.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from copier import run_copy

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
OLD, NEW = "v0.2.0", "v0.3.0"
# The real release 0.1.0 (CHANGELOG.md's 0.1.0 section dated), made before 0.2.0 moved the tooling into zerogpu/.
RELEASE_0_1_0 = "ecdad45538d84ec332f18df9529986c40609bf17"

# git without the machine's own configuration (hooks, signing, identity), the same for our commands and copier's.
GIT_ENV = {
    **{key: value for key, value in os.environ.items() if not key.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}

# What the made-up v0.3.0 release changes, one of each kind of change a release makes.
RENAMED_QUESTION = ("include_examples", "show_examples")  # a renamed question, with its migration
CHANGED_PIN = ("accelerate==1.15.0", "accelerate==1.14.0")  # a changed pin, in every kind
NEW_FILE = (".gitattributes", "*.png filter=lfs diff=lfs merge=lfs -text\n")  # a new file
CHANGED_APP_LINE = ("CONCURRENT_REQUESTS = 16\n", "CONCURRENT_REQUESTS = 24\n")  # a template line of app.py
NEW_FRONTMATTER_KEY = ('"suggested_hardware": "zero-a10g",', '"suggested_hardware": "zero-a10g",\n    "pinned": False,')
MIGRATION_ENTRY = """\
  - version: v0.3.0
    when: "{{ _stage == 'before' }}"
    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/rename_answer.py",
              "--answers-file", "{{ _copier_conf.answers_file }}", "include_examples", "show_examples"]
"""
MIGRATION = "_migrations:\n" + MIGRATION_ENTRY
MIGRATION_OUTPUT = "renamed answer 'include_examples' to 'show_examples'"


def git(*args: str, cwd: Path) -> str:
    run = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=False, capture_output=True, text=True)
    assert run.returncode == 0, f"git {' '.join(args)}:\n{run.stdout}{run.stderr}"
    return run.stdout


def copier(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The copier command line, as a user runs it; the caller checks the exit code."""
    command = [sys.executable, "-m", "copier", *args]
    return subprocess.run(command, cwd=cwd, env=GIT_ENV, check=False, capture_output=True, text=True)


def data_args(answers: dict[str, object]) -> list[str]:
    values = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in answers.items()}
    return [arg for key, value in values.items() for arg in ("--data", f"{key}={value}")]


def copy(template: Path, destination: Path, vcs_ref: str, **answers) -> Path:
    """`copier copy --trust --defaults --vcs-ref=... --data ...`, through copier's Python API (no start-up cost)."""
    run_copy(str(template), destination, data=answers, vcs_ref=vcs_ref, defaults=True, unsafe=True, quiet=True)
    return destination


def copy_space(template: Path, destination: Path, vcs_ref: str, **answers) -> Path:
    """A Space as its author has it: copied, then committed to its own git repository."""
    copy(template, destination, vcs_ref, **answers)
    git("init", "--quiet", cwd=destination)
    commit_all(destination, "Copy the template")
    return destination


def commit_all(repo: Path, message: str) -> None:
    git("add", "--all", cwd=repo)
    git("commit", "--quiet", "--allow-empty", "--message", message, cwd=repo)


def files_of(directory: Path) -> dict[str, bytes]:
    """Every file below `directory` but git's own, by relative path."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(directory).parts
    }


def snapshot_working_tree(destination: Path) -> None:
    """Copy the template's files as they are now (committed or not, but not ignored) into `destination`."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=TEMPLATE_DIR)
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / name
        if source.is_file():  # a tracked file deleted in the working tree is listed too
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def replace(path: Path, old: str, new: str, count: int | None = None) -> None:
    text = path.read_text(encoding="utf-8")
    found = text.count(old)
    assert found and (count is None or found == count), f"{path}: expected {count or 'some'} {old!r}, found {found}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def release_next_version(template: Path) -> None:
    """The changes of the made-up v0.3.0, as a maintainer makes them: question, pin, file, app line, migration."""
    old_key, new_key = RENAMED_QUESTION
    replace(template / "copier.yml", f"\n{old_key}:\n", f"\n{new_key}:\n", count=1)
    replace(template / "copier.yml", "\n_migrations:\n", "\n_migrations:\n" + MIGRATION_ENTRY, count=1)
    for path in [*template.glob("kinds/*/*.jinja"), *template.glob("template/**/*.jinja")]:
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(rf"\b{old_key}\b", new_key, text), encoding="utf-8")
    for kind in template.glob("kinds/*/kind.yml"):
        replace(kind, *CHANGED_PIN, count=1)
    for app in template.glob("kinds/*/app.py.jinja"):
        replace(app, *CHANGED_APP_LINE, count=1)
    replace(template / "template" / "README.md.jinja", *NEW_FRONTMATTER_KEY, count=1)
    name, text = NEW_FILE
    (template / "template" / name).write_text(text, encoding="utf-8")


def make_template_versions(destination: Path) -> tuple[Path, str]:
    """A git repository of the template with tags v0.2.0 (the working tree) and v0.3.0 (the next release).

    Returns the repository and the commit before v0.2.0: the same files, untagged, as a Space copied from the
    template's HEAD before its first release records them.
    """
    destination.mkdir(parents=True)
    snapshot_working_tree(destination)
    git("init", "--quiet", cwd=destination)
    commit_all(destination, "The template as it is now")
    before_release = git("rev-parse", "HEAD", cwd=destination).strip()
    commit_all(destination, "Release 0.2.0")
    git("tag", OLD, cwd=destination)
    release_next_version(destination)
    commit_all(destination, "Release 0.3.0: rename include_examples, change the accelerate pin, add .gitattributes")
    git("tag", NEW, cwd=destination)
    return destination, before_release


def make_update_from_0_1_0(destination: Path) -> Path:
    """A git repository of the template with tags v0.1.0 (the real release, from this repository's history) and
    v0.2.0 (the working tree), for updating a Space across 0.2.0's moved and removed files."""
    destination.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", RELEASE_0_1_0], cwd=TEMPLATE_DIR, env=GIT_ENV, check=False,
                             capture_output=True)  # fmt: skip
    assert archive.returncode == 0, f"release 0.1.0 ({RELEASE_0_1_0}) is not in this clone's history: {archive.stderr}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    git("init", "--quiet", cwd=destination)
    commit_all(destination, "Release 0.1.0")
    git("tag", "v0.1.0", cwd=destination)
    for path in destination.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    snapshot_working_tree(destination)
    commit_all(destination, "Release 0.2.0: the tooling in zerogpu/")
    git("tag", "v0.2.0", cwd=destination)
    return destination
