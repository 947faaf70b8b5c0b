"""The benchmark entry point runs and prints its table (no time is asserted: the figures are for reading)."""

import re
import subprocess
import sys

from conftest import TEMPLATE_DIR


def test_benchmark_prints_a_table_with_the_reference_beside_each_row():
    run = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--runs", "1", "--only", "render"],
        cwd=TEMPLATE_DIR, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    assert rows[0] == "| step | runs | median s | min s | max s | x reference |"
    assert rows[2].startswith("| reference: `copier copy` of a minimal template")
    assert re.fullmatch(r"\| render with defaults: .* \| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|", rows[3])


def test_benchmark_refuses_an_unknown_row():
    run = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--only", "nonsense"],
        cwd=TEMPLATE_DIR, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2 and "--only takes" in run.stderr
