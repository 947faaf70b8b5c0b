"""Write requirements.txt for the Space builder from pyproject.toml, through uv.lock.

    python scripts/export_requirements.py          # after any change to pyproject.toml's dependencies
    python scripts/export_requirements.py --check  # fail if uv.lock or requirements.txt has drifted

pyproject.toml is the single source of truth. The Space builder installs requirements.txt in one pip call together
with its own `gradio[oauth,mcp]==<sdk_version>` and `spaces`, so the export prunes those two and whatever only they
bring; every other package keeps the exact pin it has in uv.lock, torch's included.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

SPACE_DIR = Path(__file__).resolve().parent.parent
REQUIREMENTS = SPACE_DIR / "requirements.txt"
COMMAND = "python scripts/export_requirements.py"
BUILDER_PACKAGES = ("gradio", "spaces")  # installed by the Space builder itself, next to requirements.txt
HEADER = f"""\
# Generated from pyproject.toml and uv.lock by `{COMMAND}`: do not edit by hand.
# The Space builder adds gradio[oauth,mcp] and spaces itself, so they and what only they need are left out.
"""


class ExportError(Exception):
    """uv is missing or failed; the message says which."""


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


def uv(*args: str) -> str:
    # pyenv's shims export PYENV_VERSION, which would override the Space's .python-version when uv looks for a Python.
    env = {key: value for key, value in os.environ.items() if key != "PYENV_VERSION"}
    run = subprocess.run([find_uv(), *args], cwd=SPACE_DIR, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise ExportError(f"`uv {' '.join(args)}` failed:\n{run.stderr.strip()}")
    return run.stdout


def exported_requirements() -> str:
    """requirements.txt as uv.lock says it must be."""
    prune = [arg for package in BUILDER_PACKAGES for arg in ("--prune", package)]
    return HEADER + uv("export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project", "--no-header", *prune)


def export() -> None:
    if REQUIREMENTS.exists() and not REQUIREMENTS.read_text(encoding="utf-8").startswith(HEADER):
        raise ExportError(
            "requirements.txt was written by hand, so it is left as it is: move the packages it lists into "
            "pyproject.toml's dependencies (without gradio and spaces), then delete it"
        )
    uv("lock")
    REQUIREMENTS.write_text(exported_requirements(), encoding="utf-8")


def check() -> list[str]:
    """What has drifted, as messages: empty when uv.lock and requirements.txt match pyproject.toml."""
    try:
        uv("lock", "--check")
    except ExportError as error:
        return [f"uv.lock is out of date with pyproject.toml: {error}"]
    if not REQUIREMENTS.exists():
        return ["requirements.txt is missing"]
    if REQUIREMENTS.read_text(encoding="utf-8") != exported_requirements():
        return ["requirements.txt differs from what uv.lock gives"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that nothing has drifted")
    parser.add_argument("--if-possible", action="store_true", help="never fail: say what to run later (Copier task)")
    args = parser.parse_args()
    if args.check:
        try:
            problems = check()
        except ExportError as error:
            problems = [str(error)]
        for problem in problems:
            print(f"{problem}. Run `{COMMAND}` and commit the result.", file=sys.stderr)
        return 1 if problems else 0
    try:
        export()
    except ExportError as error:
        print(f"requirements.txt was not written: {error}", file=sys.stderr)
        print(f"Run `{COMMAND}` once that is fixed, before you push the Space.", file=sys.stderr)
        return 0 if args.if_possible else 1
    print("uv.lock and requirements.txt are up to date with pyproject.toml.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
