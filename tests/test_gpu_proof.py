"""The GPU proof scripts (benchmarks/gpu/) fail cleanly, starting nothing, on a machine without an NVIDIA GPU.

The proof itself runs on a GPU machine: see benchmarks/gpu/emulate_on_gpu.sh.
"""

import subprocess
import sys

import pytest
from conftest import TEMPLATE_DIR

GPU_DIR = TEMPLATE_DIR / "benchmarks" / "gpu"


@pytest.fixture
def no_gpu_path(tmp_path) -> str:
    """PATH with an nvidia-smi that finds no GPU first, so that this holds on a machine with one too."""
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the driver.'\nexit 9\n"
    )
    fake.chmod(0o755)
    return f"{fake.parent}:/usr/bin:/bin"


@pytest.mark.parametrize("script", ["emulate_on_gpu.sh", "emulate_on_gpu.py"])
def test_without_a_gpu_the_proof_says_so_and_starts_nothing(tmp_path, no_gpu_path, script):
    out = tmp_path / "out"
    command = (
        ["bash", str(GPU_DIR / script), str(out)]
        if script.endswith(".sh")
        else [sys.executable, str(GPU_DIR / script), str(out)]
    )
    run = subprocess.run(command, cwd=TEMPLATE_DIR, env={"PATH": no_gpu_path, "OUT": str(out)}, check=False,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    summary = (out / "summary.txt").read_text()
    assert "no NVIDIA GPU here" in summary and "nothing started" in summary
    assert sorted(path.name for path in out.iterdir()) == ["summary.txt"]


def test_the_proof_folder_is_ignored_by_git():
    run = subprocess.run(["git", "check-ignore", "-q", ".gpu-proof/wheels"], cwd=TEMPLATE_DIR, check=False)
    assert run.returncode == 0, ".gpu-proof/ must stay out of the repository (it holds wheels)"


def test_the_planted_handlers_go_before_the_launch(tmp_path):
    sys.path.insert(0, str(GPU_DIR))
    try:
        import emulate_on_gpu
    finally:
        sys.path.remove(str(GPU_DIR))
    app = tmp_path / "app.py"
    app.write_text('import spaces\n\ndemo = None\n\nif __name__ == "__main__":\n    demo.launch()\n')
    emulate_on_gpu.plant(app)
    text = app.read_text()
    assert text.index("def planted_cuda_return") < text.index('if __name__ == "__main__":')
    compile(text, "app.py", "exec")
