"""AoTI on CPU, up to what needs a GPU: aoti_unet.py's start-up steps and scripts/compile_unet.py.

Compiling (torch's inductor, through spaces) needs the GPU the package is for, so here a "compiled" UNet is the
exported graph itself, run by torch: the export, the swap, the fallbacks, the package's layout and its upload are the
real code, checked against the spaces package's own loader. benchmarks/gpu/aoti_package_on_gpu.py in the template's
repository compiles for real, on a GPU.
"""

import spaces
from spaces.zero.torch import aoti as spaces_aoti

import importlib.util
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import SPACE_DIR
from diffusers import DiffusionPipeline
from huggingface_hub.utils import filter_repo_objects

import aoti_unet

MIN_SIDE, MAX_SIDE = 256, 512  # a smaller range than the app's, for speed: the code is the same
REPO = "someone/tiny-unet-aoti"


@pytest.fixture
def pipe(tiny_model_dir) -> DiffusionPipeline:
    """A pipeline of its own (the tests swap its UNet's forward), on the tiny model."""
    return DiffusionPipeline.from_pretrained(tiny_model_dir, dtype=torch.float32)


@pytest.fixture
def on_zerogpu(monkeypatch):
    """aoti_unet as on ZeroGPU, where @spaces.GPU calls run in a worker; here they run in this process."""
    monkeypatch.setattr(aoti_unet, "on_zerogpu", lambda: True)
    monkeypatch.delenv("AOTI", raising=False)


def image(pipe: DiffusionPipeline) -> np.ndarray:
    generator = torch.Generator("cpu").manual_seed(3)
    return pipe(
        "a red cube", num_inference_steps=2, width=320, height=256, generator=generator, output_type="np"
    ).images[0]


class RunExported:
    """A stand-in for a compiled package (a plain callable, as spaces' are): the exported graph, run by torch."""

    def __init__(self, exported: torch.export.ExportedProgram):
        self.graph = exported.module()

    def __call__(self, *args, **kwargs):
        return self.graph(*args, **kwargs)


def fail(message: str):
    def failing(*args, **kwargs):
        raise RuntimeError(message)

    return failing


def log_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("AoTI:")]


def test_off_zerogpu_the_unet_runs_eagerly_with_one_line(pipe, capsys, monkeypatch):
    monkeypatch.setattr(spaces, "aoti_load", fail("must not be called"))
    monkeypatch.setattr(spaces, "aoti_compile", fail("must not be called"))
    expected = image(pipe)
    assert aoti_unet.apply(pipe, REPO, MIN_SIDE, MAX_SIDE) == "eager"
    assert log_lines(capsys) == ["AoTI: not on ZeroGPU (SPACES_ZERO_GPU is not set), so the UNet runs eagerly."]
    np.testing.assert_array_equal(image(pipe), expected)


def test_a_package_that_loads_is_used(pipe, capsys, monkeypatch, on_zerogpu):
    expected = image(pipe)
    exported = aoti_unet.export(pipe, MIN_SIDE, MAX_SIDE)
    monkeypatch.setattr(spaces, "aoti_load", lambda module, repo_id: setattr(module, "forward", RunExported(exported)))
    monkeypatch.setattr(spaces, "aoti_compile", fail("must not be called"))
    capsys.readouterr()
    assert aoti_unet.apply(pipe, REPO, MIN_SIDE, MAX_SIDE) == "loaded"
    assert log_lines(capsys) == [f"AoTI: the UNet runs the package compiled ahead of time in {REPO}."]
    assert isinstance(vars(pipe.unet)["forward"], RunExported)
    np.testing.assert_allclose(image(pipe), expected, atol=1e-4)


def test_a_package_that_fails_to_load_steps_down_to_compiling(pipe, capsys, monkeypatch, on_zerogpu):
    expected = image(pipe)
    monkeypatch.setattr(spaces, "aoti_load", fail("404 Client Error: Repository Not Found"))
    monkeypatch.setattr(spaces, "aoti_compile", RunExported)
    assert aoti_unet.apply(pipe, REPO, MIN_SIDE, MAX_SIDE) == "compiled"
    assert log_lines(capsys) == [
        (
            f"AoTI: the package in {REPO} failed (RuntimeError: 404 Client Error: Repository Not Found), so the UNet "
            "is compiled at start-up."
        ),
        "AoTI: the UNet runs compiled ahead of time, at start-up.",
    ]
    assert isinstance(vars(pipe.unet)["forward"], RunExported)  # spaces.aoti_apply swapped it in
    assert all(weight.numel() == 0 for weight in pipe.unet.parameters())  # and drained the module's own weights
    np.testing.assert_allclose(image(pipe), expected, atol=1e-4)


def test_without_a_repo_it_compiles_at_start_up(pipe, capsys, monkeypatch, on_zerogpu):
    monkeypatch.setattr(spaces, "aoti_load", fail("must not be called"))
    monkeypatch.setattr(spaces, "aoti_compile", RunExported)
    assert aoti_unet.apply(pipe, "", MIN_SIDE, MAX_SIDE) == "compiled"
    assert log_lines(capsys) == ["AoTI: the UNet runs compiled ahead of time, at start-up."]


def test_a_failing_compile_steps_down_to_eager(pipe, capsys, monkeypatch, on_zerogpu):
    expected = image(pipe)
    monkeypatch.setattr(spaces, "aoti_load", fail("404 Client Error: Repository Not Found"))
    monkeypatch.setattr(spaces, "aoti_compile", fail("InductorError: no\nCUDA"))
    assert aoti_unet.apply(pipe, REPO, MIN_SIDE, MAX_SIDE) == "eager"
    assert log_lines(capsys) == [
        (
            f"AoTI: the package in {REPO} failed (RuntimeError: 404 Client Error: Repository Not Found), so the UNet "
            "is compiled at start-up."
        ),
        "AoTI: compiling the UNet at start-up failed (RuntimeError: InductorError: no CUDA), so it runs eagerly.",
    ]
    np.testing.assert_array_equal(image(pipe), expected)


def fake_hub(monkeypatch, hub: Path) -> None:
    """huggingface_hub's snapshot_download, answered from hub/<repo id>/ with its own pattern filter."""

    def snapshot_download(repo_id, revision=None, allow_patterns=None, **kwargs):
        repo = hub / repo_id
        files = [path.relative_to(repo).as_posix() for path in repo.rglob("*") if path.is_file()]
        local = hub.parent / "cache" / repo_id
        for name in filter_repo_objects(files, allow_patterns=allow_patterns):
            (local / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo / name, local / name)
        return str(local)

    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)


def test_a_package_that_fails_on_its_first_call_is_dropped(pipe, capsys, monkeypatch, on_zerogpu, tmp_path):
    """spaces.aoti_load (the real one) only swaps in a lazy model: a package built for another GPU or torch fails at
    its first call, which apply makes at start-up, and the UNet goes back to eager before compiling."""
    expected = image(pipe)
    package = tmp_path / "hub" / REPO / "package" / "root" / "package.pt2"
    package.parent.mkdir(parents=True)
    package.write_bytes(b"not a package")
    fake_hub(monkeypatch, tmp_path / "hub")
    monkeypatch.setattr(spaces, "aoti_compile", fail("no GPU here"))
    assert aoti_unet.apply(pipe, REPO, MIN_SIDE, MAX_SIDE) == "eager"
    loaded, compiled = log_lines(capsys)
    assert loaded.startswith(f"AoTI: the package in {REPO} failed (") and loaded.endswith("compiled at start-up.")
    assert compiled == "AoTI: compiling the UNet at start-up failed (RuntimeError: no GPU here), so it runs eagerly."
    assert "forward" not in vars(pipe.unet)
    np.testing.assert_array_equal(image(pipe), expected)


# --- scripts/compile_unet.py ---------------------------------------------------------------------------------------


@pytest.fixture
def compile_unet():
    spec = importlib.util.spec_from_file_location("compile_unet", SPACE_DIR / "scripts" / "compile_unet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeHfApi:
    """huggingface_hub.HfApi's two calls the script makes, recorded, with the uploaded files kept under hub/."""

    def __init__(self, hub: Path):
        self.hub, self.calls = hub, []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, *, repo_id, folder_path, path_in_repo, **kwargs):
        self.calls.append(("upload_folder", repo_id, path_in_repo))
        shutil.copytree(folder_path, self.hub / repo_id / path_in_repo, dirs_exist_ok=True)
        return SimpleNamespace(commit_url=f"https://huggingface.co/{repo_id}/commit/0")


def test_the_script_exports_as_the_app_saves_in_spaces_layout_and_uploads(
    compile_unet, app_module, pipe, tmp_path, monkeypatch, capsys
):
    """Everything but inductor's compilation runs for real: the app's export, spaces.aoti_compile_and_save's layout,
    the upload, then the real spaces.aoti_load finding the package in the uploaded repo."""
    exported = []

    def compile_for_a_gpu(program, inductor_configs=None):  # inductor's part, which needs the GPU
        exported.append(program)
        return [], None

    monkeypatch.setattr(spaces_aoti, "_aoti_compile", compile_for_a_gpu)
    monkeypatch.setattr(compile_unet.torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("AOTI", "")
    api = FakeHfApi(tmp_path / "hub")
    assert compile_unet.main([REPO], api=api) == 0
    (program,) = exported
    assert isinstance(program, torch.export.ExportedProgram)
    sample = program.example_inputs[0][0]
    assert sample.shape[-2:] == (app_module.MAX_SIDE // 8, app_module.MAX_SIDE // 8)  # traced at the app's MAX_SIDE
    assert api.calls == [("create_repo", REPO, {"exist_ok": True}), ("upload_folder", REPO, "package")]
    assert "Uploaded to someone/tiny-unet-aoti" in capsys.readouterr().out

    fake_hub(monkeypatch, tmp_path / "hub")
    spaces.aoti_load(pipe.unet, REPO)
    loaded = pipe.unet.forward
    assert isinstance(loaded, spaces_aoti.LazyAOTIModelWithWeights), "spaces.aoti_load found no package"
    assert Path(loaded.model.archive_file).read_bytes()[:2] == b"PK"  # the archive aoti_compile_and_save wrote


def test_the_script_with_out_writes_the_repo_layout_and_uploads_nothing(
    compile_unet, app_module, tmp_path, monkeypatch
):
    monkeypatch.setattr(spaces_aoti, "_aoti_compile", lambda program, inductor_configs=None: ([], None))
    monkeypatch.setattr(compile_unet.torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("AOTI", "")
    assert compile_unet.main(["--out", str(tmp_path / "repo")], api=None) == 0
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()] == [
        "repo/package/root/package.pt2"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["not a repo"], "is not a Hub repo id"),
        (["owner/name", "--out", "x"], "not both"),
        ([], "not both"),
    ],
)
def test_the_script_refuses_bad_arguments(compile_unet, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compile_unet.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_the_script_refuses_to_compile_on_cpu(compile_unet):
    with pytest.raises(SystemExit, match="needs ZeroGPU or an NVIDIA GPU"):
        compile_unet.main([REPO])
