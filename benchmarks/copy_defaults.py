"""Median wall time of `copier copy --trust --defaults` of this template, the command a new user runs first.

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


def time_copy(destination: Path) -> float:
    command = [sys.executable, "-m", "copier", "copy", "--quiet", "--trust", "--defaults", "--vcs-ref=HEAD"]
    start = time.perf_counter()
    subprocess.run([*command, str(TEMPLATE_DIR), str(destination)], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        seconds = [time_copy(Path(scratch) / f"space-{run}") for run in range(runs)]
    print(f"copier copy --trust --defaults, {runs} runs: median {statistics.median(seconds):.2f} s, "
          f"min {min(seconds):.2f} s, max {max(seconds):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
