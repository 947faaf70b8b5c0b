"""Median wall times of `copier copy --trust --defaults` of this template, the command a new user runs first:
the render alone (`--skip-tasks`), and copy to ready (render, then the task's `uv lock` and export), on a warm uv
cache (one untimed copy first warms it).

Run: uv run python benchmarks/copy_defaults.py [--runs N]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
COPY = [sys.executable, "-m", "copier", "copy", "--quiet", "--trust", "--defaults", "--vcs-ref=HEAD"]


def time_copy(destination: Path, *options: str) -> float:
    start = time.perf_counter()
    subprocess.run([*COPY, *options, str(TEMPLATE_DIR), str(destination)], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    if not options:
        assert (destination / "requirements.txt").is_file(), "the export task did not write requirements.txt"
    return seconds


def summary(label: str, seconds: list[float]) -> str:
    median, low, high = statistics.median(seconds), min(seconds), max(seconds)
    return f"{label:<42} median {median:5.2f} s   min {low:5.2f} s   max {high:5.2f} s   ({len(seconds)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        time_copy(Path(scratch) / "warm-up")
        render = [time_copy(Path(scratch) / f"render-{run}", "--skip-tasks") for run in range(runs)]
        ready = [time_copy(Path(scratch) / f"ready-{run}") for run in range(runs)]
    print(summary("render (copier copy --skip-tasks)", render))
    print(summary("copy to ready (render, uv lock, export)", ready))


if __name__ == "__main__":
    main()
