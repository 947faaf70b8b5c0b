"""How long a template user's steps take, in one table, next to a reference render measured in the same run.

Run: uv run python benchmarks/run.py [--runs N] [--only render,ready,update,app]

Rows:
  reference   `copier copy` of a minimal template (one question, one file) written to a temp folder: the yardstick.
              One reference render is timed right before every other sample, so that "x reference" (the median of
              each sample over its own reference) compares figures across machines and across a noisy run.
  render      `copier copy --trust --defaults` of this template, the command a new user runs first.
  ready       copy to ready: render, `uv lock`, then `uv export` of requirements.txt. When the template's own export
              task lands (it runs during the copy and leaves uv.lock behind), the copy alone is timed, with no change
              here: see READY_COMMANDS.
  update      `copier update` between two scratch-tagged versions of the template in a temp clone, the new one with
              a template change and a migration, on a Space with an author's commit. The clone holds committed work
              only.
  app         the rendered app's start to first response on CPU, per kind: `python app.py` on a tiny random model
              (built by the Space's own tests/tiny_model.py, not timed) until the first API call returns. Its venv is
              installed like the Space builder does (tests/space_harness.py), not timed.
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
import yaml

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TEMPLATE_DIR / "tests"))

from space_harness import (  # tests/ holds the harness that the tests share
    SPACE_TORCH,
    build_tiny_model,
    call,
    install_like_the_space_builder,
    serve,
    uv,
)

COPIER = [sys.executable, "-m", "copier"]
# What makes a rendered Space ready to push, after the copy. The export task (issue 3) will run these itself during
# `copier copy`, leaving uv.lock behind; `ready_steps` then skips them and the copy alone is timed.
READY_COMMANDS = [
    ["lock"],
    ["export", "--no-hashes", "--no-dev", "--no-emit-package", "spaces", "--no-emit-package", "gradio",
     "-o", "requirements.txt"],
]  # fmt: skip
OLD_TAG, NEW_TAG = "v999.0.0", "v999.1.0"  # scratch tags, above any real release, in a throwaway clone only
FIRST_CALLS = {
    "text-generation": ("chat", ["Hello there", 16, 0]),
    "image-generation": ("generate", ["a red cube on a table", "", 2, 7.0, 256, 256, 0]),
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


def copy(template: Path, destination: Path, *data: str, vcs_ref: str = "HEAD") -> None:
    answers = [part for item in data for part in ("--data", item)]
    run([*COPIER, "copy", "--quiet", "--trust", "--defaults", f"--vcs-ref={vcs_ref}", *answers, str(template),
         str(destination)])  # fmt: skip


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
        return lambda: copy(TEMPLATE_DIR, destination)

    bench.measure("render with defaults: `copier copy --trust --defaults`", runs, prepare)


def interpreter(version: str) -> str:
    """A real python<version> for uv: pyenv's shims make uv's own discovery fail, so look past them."""
    found = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    found += [Path(p) / f"python{version}" for p in os.environ["PATH"].split(os.pathsep) if "shims" not in p]
    for path in found:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise RuntimeError(f"no python{version} found for `uv lock`: the rendered Space asks for Python {version}")


def ready_steps(project: Path) -> None:
    if (project / "uv.lock").exists():
        return  # the template's own export task already ran during the copy
    python = interpreter((project / ".python-version").read_text().strip())
    for command in READY_COMMANDS:
        uv(*command, "--python", python, cwd=project)
    if "torch==" not in (project / "requirements.txt").read_text():
        raise RuntimeError("the exported requirements.txt does not pin torch")


def ready_row(bench: Bench, runs: int) -> None:
    def prepare():
        destination = bench.fresh("ready")
        return lambda: (copy(TEMPLATE_DIR, destination), ready_steps(destination))

    bench.measure("copy to ready: render, `uv lock`, `uv export` of requirements.txt", runs, prepare)


def scratch_versions(clone: Path) -> None:
    """Tag HEAD as the old version; commit a template change and a migration, and tag that as the new version."""
    git("tag", OLD_TAG, cwd=clone)
    config_path = clone / "copier.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config.setdefault("_migrations", []).append(
        {
            "version": NEW_TAG,
            "command": "{{ _copier_python }} -c \"import pathlib; pathlib.Path('MIGRATED').write_text('ok')\"",
        }
    )
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    readme = clone / "template" / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n<!-- a line from the new template version -->\n")
    git("commit", "--quiet", "-am", "scratch: a template change and a migration", cwd=clone)
    git("tag", NEW_TAG, cwd=clone)


def update_row(bench: Bench, runs: int) -> None:
    clone = bench.scratch / "template-clone"
    git("clone", "--quiet", str(TEMPLATE_DIR), str(clone), cwd=bench.scratch)
    scratch_versions(clone)

    def prepare():
        project = bench.fresh("update")
        copy(clone, project, vcs_ref=OLD_TAG)
        git("init", "--quiet", cwd=project)
        git("add", "-A", cwd=project)
        git("commit", "--quiet", "-m", "Space at the old version", cwd=project)
        with open(project / "app.py", "a", encoding="utf-8") as app:
            app.write("\n# an author's own line, which the update must keep\n")
        git("commit", "--quiet", "-am", "the author's change", cwd=project)

        def update():
            run([*COPIER, "update", "--quiet", "--trust", "--defaults", f"--vcs-ref={NEW_TAG}"], cwd=project)
            if not (project / "MIGRATED").exists() or "an author's own line" not in (project / "app.py").read_text():
                raise RuntimeError("the update did not run its migration or lost the author's change")

        return update

    bench.measure("update with a migration: `copier update` between two scratch tags", runs, prepare)


def app_rows(bench: Bench, runs: int) -> None:
    for kind, (api_name, data) in FIRST_CALLS.items():
        project = bench.fresh(f"app-{kind}")
        copy(TEMPLATE_DIR, project, f"app_kind={kind}", f"torch_version={SPACE_TORCH}")
        python = install_like_the_space_builder(project)
        model_dir = build_tiny_model(python, project, bench.fresh(f"tiny-{kind}"))

        def prepare(python=python, project=project, model_dir=model_dir, api_name=api_name, data=data):
            log = bench.fresh("app-log")

            def start_and_call():
                with serve(python, project, model_dir, log) as url:
                    call(url, api_name, *data)

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
        f"copier {copier.__version__}, torch {SPACE_TORCH} (CPU) for the app rows\n"
    )
    print(table(bench))


if __name__ == "__main__":
    main()
