"""README.md's commands, as a newcomer runs them: in a fresh clone of this repository, word for word.

The commands are read from README.md itself (its first bash block: render a Space, run the tests; the block under
"Keeping a Space current": the update commands) and the Space's next steps from what the copy prints, so that a test
of them fails when the docs and the template drift apart. Each command runs through bash, as typed.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from space_harness import uv_environment
from template_versions import TEMPLATE_DIR, commit_all, git, snapshot_working_tree

from extensions.kinds import default_kind

README = TEMPLATE_DIR / "README.md"
DEFAULT_KIND = default_kind(TEMPLATE_DIR / "kinds")


def bash_blocks(text: str) -> list[list[str]]:
    """The commands of each ```bash block, comments and blank lines left out."""
    blocks = re.findall(r"^```bash\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)
    return [[line.split(" #")[0].strip() for line in block.splitlines() if line.split(" #")[0].strip()]
            for block in blocks]  # fmt: skip


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def first_commands() -> tuple[str, str]:
    """README's first two commands: render a Space with the defaults, run this repository's tests."""
    render, test, *rest = bash_blocks(readme_text())[0]
    assert not rest, f"README.md's first block must hold exactly the two commands, not also {rest}"
    return render, test


def update_commands() -> list[str]:
    """The commands under README's "Keeping a Space current"."""
    section = readme_text().split("## Keeping a Space current", 1)[1].split("\n## ", 1)[0]
    return bash_blocks(section)[0]


def render_command(app_kind: str = DEFAULT_KIND) -> str:
    """README's first command; for another kind than the default, with that one answer added, as docs/generate.md
    shows (`--data app_kind=...` before the template and the destination)."""
    command = first_commands()[0]
    if app_kind == DEFAULT_KIND:
        return command
    *options, template, destination = shlex.split(command)
    return shlex.join([*options, "--data", f"app_kind={app_kind}", template, destination])


def fresh_clone(destination: Path) -> Path:
    """A clone of this repository as it is now (uncommitted changes included, untagged), made as a newcomer makes one:
    the working tree is committed to a scratch repository, which is then cloned with `git clone`."""
    origin = destination.with_name(destination.name + "-origin")
    origin.mkdir(parents=True)
    snapshot_working_tree(origin)
    git("init", "--quiet", "--initial-branch=main", cwd=origin)
    commit_all(origin, "This repository as it is now")
    git("clone", "--quiet", str(origin), str(destination), cwd=origin.parent)
    return destination


def shell(command: str, cwd: Path, timeout: float = 1800, **env: str) -> subprocess.CompletedProcess:
    """One README command, through bash as typed, in a newcomer's environment (no pytest or dev-venv variables, no
    pyenv override, no Python downloads); the caller checks the result."""
    return subprocess.run(["bash", "-c", command], cwd=cwd, env={**uv_environment(), **env}, check=False,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@dataclass
class ReadmeSpace:
    """A Space rendered by README's first command in a fresh clone."""

    clone: Path
    project: Path
    next_steps: list[str]  # the commands the copy printed after "Next steps:", `cd` first
    output: str  # what the copy printed


def next_steps(output: str) -> list[str]:
    """The commands under "Next steps:" in what `copier copy` printed, comments left out."""
    lines = output.split("Next steps:\n", 1)[1].splitlines()
    steps = []
    for line in lines:
        if not line.startswith("  "):
            break
        steps.append(line.split(" #")[0].strip())
    return [step for step in steps if step]


def render_space(clone: Path, app_kind: str = DEFAULT_KIND) -> ReadmeSpace:
    run = shell(render_command(app_kind), cwd=clone)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"README's first command failed:\n{output}"
    steps = next_steps(output)
    assert steps[0].startswith("cd "), steps
    project = clone / steps[0].removeprefix("cd ")
    assert (project / ".copier-answers.yml").is_file(), output
    return ReadmeSpace(clone, project, steps, output)


def passed(output: str) -> bool:
    """pytest's closing line reports passes and no failure or error."""
    closing = output.strip().splitlines()[-1] if output.strip() else ""
    return bool(re.search(r"\b\d+ passed\b", closing)) and not re.search(r"\b(failed|errors?)\b", closing)
