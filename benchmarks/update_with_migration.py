"""Median wall time of `copier update --trust --defaults` across a release with a migration, as an author runs it.

A scratch repository of this template gets tags v0.1.0 (the working tree) and v0.2.0 (a release that renames a
question, with its migration, bumps a pin and adds a file: tests/template_versions.py). Each run copies a Space at
v0.1.0, commits it with an author's edit, then times the update to v0.2.0 and checks that the migration ran once.

Run: uv run python benchmarks/update_with_migration.py [--runs N]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from template_versions import MIGRATION_OUTPUT, OLD, commit_all, copier, copy_space, make_template_versions


def time_update(template: Path, space: Path) -> float:
    copy_space(template, space, OLD, include_examples=False)
    app = space / "app.py"
    app.write_text(app.read_text(encoding="utf-8").replace("MAX_NEW_TOKENS = 1024", "MAX_NEW_TOKENS = 2048"))
    commit_all(space, "An author's edit")
    start = time.perf_counter()
    run = copier("update", "--trust", "--defaults", cwd=space)
    seconds = time.perf_counter() - start
    assert run.returncode == 0, run.stdout + run.stderr
    assert (run.stdout + run.stderr).count(MIGRATION_OUTPUT) == 1, "the migration did not run exactly once"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        template, _ = make_template_versions(Path(scratch) / "copier-zerogpu")
        seconds = [time_update(template, Path(scratch) / f"space-{run}") for run in range(runs)]
    print(f"copier update --trust --defaults, v0.1.0 -> v0.2.0 with a migration, {runs} runs: "
          f"median {statistics.median(seconds):.2f} s, min {min(seconds):.2f} s, max {max(seconds):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
