"""Write requirements.txt for the Space builder from pyproject.toml, through uv.lock.

    python -m zerogpu.export          # after any change to pyproject.toml's dependencies
    python -m zerogpu.export --check  # fail if uv.lock or requirements.txt has drifted

pyproject.toml is the single source of truth. The Space builder installs requirements.txt in one pip call together
with its own `gradio[oauth,mcp]==<sdk_version>` and `spaces`, so the export prunes those two and whatever only they
bring; every other package keeps the exact pin it has in uv.lock, torch's included.
"""

import argparse
import difflib
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SPACE_DIR = Path(__file__).resolve().parent.parent  # the Space: zerogpu/ sits beside its pyproject.toml
PYPROJECT = SPACE_DIR / "pyproject.toml"
LOCK = SPACE_DIR / "uv.lock"
REQUIREMENTS = SPACE_DIR / "requirements.txt"
COMMAND = "python -m zerogpu.export"
BUILDER_PACKAGES = ("gradio", "spaces")  # installed by the Space builder itself, next to requirements.txt
HEADER = f"""\
# Generated from pyproject.toml and uv.lock by `{COMMAND}`: do not edit by hand.
# The Space builder adds gradio[oauth,mcp] and spaces itself, so they and what only they need are left out.
"""
# The first line every version of the export writes (before 0.2.0 its command was `python scripts/export_requirements.py`):
# a requirements.txt that starts with it is generated, one that does not was written by hand.
GENERATED = re.compile(r"# Generated from pyproject\.toml and uv\.lock by `[^`\n]+`: do not edit by hand\.\n")
HAND_WRITTEN = (
    "requirements.txt was written by hand (it lacks the generated header), so it is left as it is: move the packages "
    "it lists into pyproject.toml's dependencies (without gradio and spaces), delete it, then run "
    f"`{COMMAND}`"
)
# What a log must never show: the user info of a URL, a query that names a credential, a Hugging Face token.
_USER_INFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@`'\"]+@", re.IGNORECASE)
_CREDENTIAL_QUERY = re.compile(
    r"(?P<name>[?&][^=&\s]*(?:token|auth|key|sig|secret|passw|credential|session|x-amz-)[^=&\s]*=)[^&\s#`'\")]*",
    re.IGNORECASE,
)
_HUB_TOKEN = re.compile(r"hf_[A-Za-z0-9]{6,}")
# uv's words when pyproject.toml itself is at fault (no resolution, not TOML, a URL that answers 4xx), not the machine.
PROJECT_FAILURES = ("No solution found", "TOML parse error", "Failed to parse", "status client error")


class ExportError(Exception):
    """The export cannot run on this machine (no uv, no package index): run it later where it can."""


class ProjectError(ExportError):
    """pyproject.toml or requirements.txt, as they are, cannot give a requirements.txt: they need fixing first."""


def redacted(text: str) -> str:
    """Text for a log line, without credentials: uv quotes the URLs it fails on, user info and queries included."""
    text = _USER_INFO.sub(r"\g<scheme>***@", text)
    text = _CREDENTIAL_QUERY.sub(r"\g<name>***", text)
    return _HUB_TOKEN.sub("hf_***", text)


def find_uv() -> str:
    """uv from the Python package when this interpreter has it (the dev group installs it), else from PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except ImportError:
        pass
    if found := shutil.which("uv"):
        return found
    raise ExportError("uv is not installed (https://docs.astral.sh/uv/getting-started/installation/)")


def uv(*args: str) -> subprocess.CompletedProcess:
    # pyenv's shims export PYENV_VERSION, which would override the Space's .python-version when uv looks for a Python.
    env = {key: value for key, value in os.environ.items() if key != "PYENV_VERSION"}
    return subprocess.run([find_uv(), *args], cwd=SPACE_DIR, env=env, capture_output=True, text=True, check=False)


def failure(run: subprocess.CompletedProcess) -> ExportError:
    """uv's failure as an error of the project (it cannot be resolved or read) or of this machine (anything else,
    such as an index out of reach), with uv's own words, redacted."""
    said = redacted(run.stderr.strip())
    command = f"`uv {' '.join(run.args[1:])}` failed:\n{said}"
    if any(sign in said for sign in PROJECT_FAILURES):
        fix = "fix pyproject.toml (on a copy or an update: the answers that write its pins, such as gradio_version)"
        return ProjectError(
            f"{command}\nThe project's pins cannot be installed as they are: {fix}, then run `{COMMAND}`"
        )
    return ExportError(command)


def check_pyproject() -> None:
    """pyproject.toml parses as TOML; said plainly, before uv says it its own way."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: uv's own message will do
        return
    try:
        tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProjectError(f"pyproject.toml is not valid TOML ({error}): fix it, then run `{COMMAND}`") from None


def exported_requirements() -> str:
    """requirements.txt as uv.lock says it must be."""
    prune = [arg for package in BUILDER_PACKAGES for arg in ("--prune", package)]
    run = uv("export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project", "--no-header", *prune)
    if run.returncode != 0:
        raise failure(run)
    return HEADER + run.stdout


def body(requirements: str) -> str:
    """requirements.txt without its header: what pip reads (an earlier version's header is no edit of the author's)."""
    return "".join(itertools.dropwhile(lambda line: line.startswith("#"), requirements.splitlines(keepends=True)))


def lost_edits() -> str:
    """What a new export drops from requirements.txt, as a diff: what differs from what the current uv.lock gives
    (hand edits under the generated header). Empty when nothing does, or there is no uv.lock to compare with."""
    if not REQUIREMENTS.exists() or not LOCK.exists():
        return ""
    current, expected = body(REQUIREMENTS.read_text(encoding="utf-8")), body(exported_requirements())
    if current == expected:
        return ""
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True), current.splitlines(keepends=True), "uv.lock gives", "requirements.txt"
    )
    return "".join(diff)


def export() -> str:
    """Lock and write requirements.txt; returns what it dropped of hand edits under the header, as a diff."""
    if REQUIREMENTS.exists() and not GENERATED.match(REQUIREMENTS.read_text(encoding="utf-8")):
        raise ExportError(HAND_WRITTEN)
    check_pyproject()
    find_uv()
    edits = lost_edits()
    run = uv("lock")
    if run.returncode != 0:
        raise failure(run)
    REQUIREMENTS.write_text(exported_requirements(), encoding="utf-8")
    return edits


def check() -> list[str]:
    """What has drifted, as messages: empty when uv.lock and requirements.txt match pyproject.toml."""
    check_pyproject()
    run = uv("lock", "--check")
    if run.returncode != 0:
        if "needs to be updated" not in run.stderr:
            raise failure(run)
        return [f"uv.lock is out of date with pyproject.toml. Run `{COMMAND}` and commit the result"]
    if not REQUIREMENTS.exists():
        return [f"requirements.txt is missing. Run `{COMMAND}` and commit the result"]
    if not GENERATED.match(REQUIREMENTS.read_text(encoding="utf-8")):
        return [HAND_WRITTEN]
    if edits := lost_edits():
        fix = f"Put the packages you need in pyproject.toml (an export drops any other line), then run `{COMMAND}`"
        return [f"requirements.txt differs from what uv.lock gives:\n{edits}{fix} and commit the result"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that nothing has drifted")
    parser.add_argument(
        "--if-possible",
        action="store_true",
        help="on a machine that cannot export (no uv, no index), say what to run later and exit 0 (Copier task)",
    )
    args = parser.parse_args()
    if args.check:
        try:
            problems = check()
        except ExportError as error:
            problems = [f"the check could not run: {error}"]
        for problem in problems:
            print(f"{problem}.", file=sys.stderr)
        return 1 if problems else 0
    try:
        dropped = export()
    except ProjectError as error:  # the project's fault, not the machine's: fail, even as a Copier task
        print(f"requirements.txt was not written: {error}.", file=sys.stderr)
        return 1
    except ExportError as error:
        print(f"requirements.txt was not written: {error}.", file=sys.stderr)
        print(f"Run `{COMMAND}` once that is fixed, before you push the Space.", file=sys.stderr)
        return 0 if args.if_possible else 1
    if dropped:
        print(
            "requirements.txt had been edited by hand under its generated header; these lines are gone from it now "
            f"(put what you need in pyproject.toml's dependencies):\n{dropped}",
            file=sys.stderr,
        )
    print("uv.lock and requirements.txt are up to date with pyproject.toml.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
