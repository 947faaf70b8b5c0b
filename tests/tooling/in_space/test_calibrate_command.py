"""`python -m zerogpu.calibrate` in a Space, without a GPU: it says so and writes nothing, refuses on ZeroGPU itself,
and refits the Space's durations.json from the fits it stores."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from zerogpu import durations

SPACE_DIR = Path.cwd()  # the Space these run in (tests/test_zerogpu_package.py runs them from its folder)


def run_calibrate(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", **env}  # never time a real GPU from the tests
    return subprocess.run([sys.executable, "-m", "zerogpu.calibrate", *args], cwd=SPACE_DIR, env=environment,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def digest() -> str:
    return hashlib.sha256((SPACE_DIR / "durations.json").read_bytes()).hexdigest()


def test_calibrate_without_a_gpu_says_so_and_writes_nothing(tmp_path):
    before = digest()
    output = tmp_path / "out.json"
    run = run_calibrate("--output", str(output))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "No CUDA GPU" in run.stderr and "nothing was written" in run.stderr
    assert not output.exists() and digest() == before


def test_calibrate_refuses_on_zerogpu_itself(tmp_path):
    run = run_calibrate("--output", str(tmp_path / "out.json"), SPACES_ZERO_GPU="true")
    assert run.returncode == 2 and "SPACES_ZERO_GPU" in run.stderr
    assert not (tmp_path / "out.json").exists()


def test_refit_recomputes_from_the_stored_fits_without_a_gpu(tmp_path):
    before = digest()
    output = tmp_path / "out.json"
    run = run_calibrate("--refit", "--margin", "1.5", "--output", str(output))
    assert run.returncode == 0, run.stdout + run.stderr
    shipped = json.loads((SPACE_DIR / "durations.json").read_text(encoding="utf-8"))
    refit = durations.load(output)
    assert refit["target"] == {**shipped["target"], "margin": 1.5} and digest() == before
    for name, entry in refit["handlers"].items():
        assert entry["fit"] == shipped["handlers"][name]["fit"]
        scale = 1.5 / shipped["target"]["margin"]
        for unit, cost in shipped["handlers"][name]["per_unit_s"].items():
            assert entry["per_unit_s"][unit] == pytest.approx(cost * scale, rel=1e-3, abs=1e-4)
