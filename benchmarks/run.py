"""How long a template user's steps take, in one table, next to a reference render measured in the same run.

Run: uv run python benchmarks/run.py [--runs N] [--only render,ready,update,app]

Rows:
  reference   `copier copy` of a minimal template (one question, one file) written to a temp folder: the yardstick.
              One reference render is timed right before every other sample, so that "x reference" (the median of
              each sample over its own reference) compares figures across machines and across a noisy run.
  render      `copier copy --trust --defaults --skip-tasks` of this template: the render alone.
  ready       copy to ready: `copier copy --trust --defaults`, whose task runs `uv lock` and the export of
              requirements.txt (on a warm uv cache: the first sample warms it).
  update      `copier update --trust --defaults` from v0.1.0 to v0.2.0 of a scratch repository of this template
              (tests/template_versions.py: the new release renames a question with its migration, changes a pin and
              adds a file), on a Space with an author's commit.
  app         the rendered app's start to first response on CPU, per kind: `python app.py` on a tiny random model
              (built by the Space's own tests/tiny_model.py, not timed) until the first API call returns (each kind's
              `first_call` in kinds/<kind>/kind.yml, its files uploaded first). Its venv is installed from the Space's
              uv.lock, as `uv run` installs it (tests/space_harness.py), not timed.
Times are wall-clock seconds. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import copier

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE_DIR / "tests"))
sys.path.insert(0, str(TEMPLATE_DIR))

from space_harness import build_tiny_model, call, install_from_lock, serve, with_uploads
from template_versions import MIGRATION_OUTPUT, OLD, commit_all, copy_space, make_template_versions

from extensions.kinds import load_kinds

COPIER = [sys.executable, "-m", "copier"]
FIRST_CALLS = {
    name: (kind["first_call"]["api_name"], kind["first_call"]["data"]) for name, kind in load_kinds().items()
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def run(command: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **GIT_ENV}, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")


def git(*args: str, cwd: Path) -> None:
    run(["git", *args], cwd=cwd)


def copy(template: Path, destination: Path, *data: str, options: list[str] | None = None) -> None:
    answers = [part for item in data for part in ("--data", item)]
    run([*COPIER, "copy", "--quiet", "--trust", "--defaults", "--vcs-ref=HEAD", *(options or []), *answers,
         str(template), str(destination)])  # fmt: skip


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


# ---- the reference: a minimal template, one question and one file ----


def minimal_template(folder: Path) -> Path:
    (folder / "template").mkdir(parents=True)
    (folder / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: world\n")
    (folder / "template" / "hello.txt.jinja").write_text("Hello {{ name }}!\n")
    git("init", "--quiet", cwd=folder)
    git("add", "-A", cwd=folder)
    git("commit", "--quiet", "-m", "minimal template", cwd=folder)
    return folder


# ---- rows ----


@dataclass
class Row:
    label: str
    seconds: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)


class Bench:
    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.reference_template = minimal_template(scratch / "minimal-template")
        self.reference = Row("reference: `copier copy` of a minimal template (1 question, 1 file)")
        self.rows: list[Row] = []
        self._count = 0

    def fresh(self, name: str) -> Path:
        self._count += 1
        return self.scratch / f"{name}-{self._count}"

    def sample(self, row: Row, step: Callable[[], object]) -> None:
        """One reference render, then one sample of `row`: neighbours in time see the same machine load."""
        reference = timed(lambda: copy(self.reference_template, self.fresh("reference")))
        seconds = timed(step)
        self.reference.seconds.append(reference)
        row.seconds.append(seconds)
        row.ratios.append(seconds / reference)

    def measure(self, label: str, runs: int, prepare: Callable[[], Callable[[], object]]) -> None:
        """`prepare()` does the untimed set-up of one sample and returns its timed step."""
        row = Row(label)
        self.rows.append(row)
        for _ in range(runs):
            self.sample(row, prepare())
        print(f"  {label}: {', '.join(f'{s:.2f}' for s in row.seconds)} s", file=sys.stderr, flush=True)


def render_row(bench: Bench, runs: int) -> None:
    def prepare():
        destination = bench.fresh("render")
        return lambda: copy(TEMPLATE_DIR, destination, options=["--skip-tasks"])

    bench.measure("render with defaults: `copier copy --trust --defaults --skip-tasks`", runs, prepare)


def ready_row(bench: Bench, runs: int) -> None:
    def prepare():
        destination = bench.fresh("ready")

        def copy_to_ready():
            copy(TEMPLATE_DIR, destination)
            if "torch==" not in (destination / "requirements.txt").read_text():
                raise RuntimeError("the export task did not write requirements.txt with torch pinned")

        return copy_to_ready

    bench.measure("copy to ready: render, then the task's `uv lock` and export", runs, prepare)


def update_row(bench: Bench, runs: int) -> None:
    template, _ = make_template_versions(bench.scratch / "copier-zerogpu")

    def prepare():
        space = copy_space(template, bench.fresh("update"), OLD, include_examples=False)
        app = space / "app.py"
        app.write_text(app.read_text(encoding="utf-8") + "\n# an author's own line, which the update must keep\n")
        commit_all(space, "An author's edit")

        def update():
            done = subprocess.run(
                [*COPIER, "update", "--trust", "--defaults"], cwd=space, check=False, capture_output=True, text=True
            )
            said = done.stdout + done.stderr
            if done.returncode or said.count(MIGRATION_OUTPUT) != 1 or "an author's own line" not in app.read_text():
                raise RuntimeError(f"the update failed, skipped its migration or lost the author's line:\n{said}")

        return update

    bench.measure("update with a migration: `copier update`, v0.1.0 to v0.2.0", runs, prepare)


def app_rows(bench: Bench, runs: int) -> None:
    for kind, (api_name, data) in FIRST_CALLS.items():
        project = bench.fresh(f"app-{kind}")
        copy(TEMPLATE_DIR, project, f"app_kind={kind}")
        python = install_from_lock(project)
        model_dir = build_tiny_model(python, project, bench.fresh(f"tiny-{kind}"))

        def prepare(python=python, project=project, model_dir=model_dir, api_name=api_name, data=data):
            log = bench.fresh("app-log")

            def start_and_call():
                with serve(python, project, model_dir, log) as url:
                    call(url, api_name, *with_uploads(url, project, data))

            return start_and_call

        bench.measure(f"app start to first response, {kind} (CPU, tiny model)", runs, prepare)


ROWS = {"render": render_row, "ready": ready_row, "update": update_row, "app": app_rows}


def table(bench: Bench) -> str:
    lines = [
        "| step | runs | median s | min s | max s | x reference |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in [bench.reference, *bench.rows]:
        ratio = f"{statistics.median(row.ratios):.1f}" if row.ratios else "1.0"
        lines.append(
            f"| {row.label} | {len(row.seconds)} | {statistics.median(row.seconds):.2f} | {min(row.seconds):.2f} "
            f"| {max(row.seconds):.2f} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="samples of each row (default 3)")
    parser.add_argument("--only", default=",".join(ROWS), help=f"rows to measure, of {','.join(ROWS)} (default all)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(ROWS)
    if unknown or not chosen:
        parser.error(f"--only takes {','.join(ROWS)}; got {args.only!r}")

    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    with tempfile.TemporaryDirectory(prefix="copier-zerogpu-bench-") as scratch:
        bench = Bench(Path(scratch))
        for name in chosen:
            print(f"measuring {name}...", file=sys.stderr, flush=True)
            ROWS[name](bench, args.runs)
    print(
        f"copier-zerogpu benchmarks: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"copier {copier.__version__}; the app rows run each Space's own uv.lock on CPU\n"
    )
    print(table(bench))


if __name__ == "__main__":
    main()
