"""The UNet compiled ahead of time (AoTI), for a Space made with `aoti: true`. Template-owned: `copier update` keeps it.

ZeroGPU does not support torch.compile, so the UNet is compiled with the AoTI helpers of the `spaces` package. At
start-up on ZeroGPU, `apply` loads the package that `scripts/compile_unet.py` compiled once and saved to a Hub repo;
without a repo, or when its package does not load or run, it compiles in a start-up GPU call (up to 25 minutes: see
README.md's startup_duration_timeout); when that fails too, the UNet runs eagerly. Each fallback logs one line.
"""

import spaces  # ZeroGPU: imported before torch, so that it can take over CUDA

import os

import torch
from diffusers import DiffusionPipeline

COMPILE_SECONDS = 1500  # ZeroGPU: the longest GPU call allowed at start-up
CHECK_SECONDS = 120  # ZeroGPU: a start-up call that runs a loaded package once, at the smallest size


def export(pipe: DiffusionPipeline, min_side: int, max_side: int) -> torch.export.ExportedProgram:
    """pipe.unet as a graph, traced at max_side with the batch (2 with guidance, else 1) and the image size free from
    min_side to max_side (multiples of 64): the one export of the app's start-up compile and of compile_unet.py."""
    with spaces.aoti_capture(pipe.unet) as call:
        pipe("A lighthouse on a cliff", num_inference_steps=1, width=max_side, height=max_side)
    batch = torch.export.Dim("batch", min=1, max=2)
    # Latents are 1/8 of the image: a side that is a multiple of 64 pixels is 8 times a whole number of latents.
    height = torch.export.Dim("height", min=min_side // 64, max=max_side // 64)
    width = torch.export.Dim("width", min=min_side // 64, max=max_side // 64)

    def free_batch(value):
        if isinstance(value, dict):
            return {key: free_batch(item) for key, item in value.items()}
        return {0: batch} if isinstance(value, torch.Tensor) and value.dim() else None

    shapes = {"sample": {0: batch, 2: 8 * height, 3: 8 * width}, "timestep": None}
    shapes |= {name: free_batch(value) for name, value in call.kwargs.items()}
    return torch.export.export(pipe.unet, args=call.args, kwargs=call.kwargs, dynamic_shapes=shapes)


def on_zerogpu() -> bool:
    """Whether this runs on ZeroGPU, as the spaces package decides it."""
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in {"1", "t", "true"}


def apply(pipe: DiffusionPipeline, repo_id: str, min_side: int, max_side: int) -> str:
    """Run pipe.unet compiled on ZeroGPU: the package in the Hub repo `repo_id` ("" for none), else compiled here,
    else eagerly. Returns which ("loaded", "compiled" or "eager"), after one log line for each step down."""
    if not on_zerogpu():
        print("AoTI: not on ZeroGPU (SPACES_ZERO_GPU is not set), so the UNet runs eagerly.")
        return "eager"
    if os.environ.get("AOTI", "").lower() == "off":
        print("AoTI: off (AOTI=off), so the UNet runs eagerly.")
        return "eager"
    if repo_id:
        try:
            load(pipe, repo_id, min_side)
        except Exception as error:  # noqa: BLE001 - any failure steps down to compiling, with its reason logged
            print(f"AoTI: the package in {repo_id} failed ({reason(error)}), so the UNet is compiled at start-up.")
        else:
            print(f"AoTI: the UNet runs the package compiled ahead of time in {repo_id}.")
            return "loaded"

    @spaces.GPU(duration=COMPILE_SECONDS)
    def compile_unet():
        return spaces.aoti_compile(export(pipe, min_side, max_side))

    try:
        spaces.aoti_apply(compile_unet(), pipe.unet)
    except Exception as error:  # noqa: BLE001 - the app still serves, eagerly, with the reason logged
        print(f"AoTI: compiling the UNet at start-up failed ({reason(error)}), so it runs eagerly.")
        return "eager"
    print("AoTI: the UNet runs compiled ahead of time, at start-up.")
    return "compiled"


def load(pipe: DiffusionPipeline, repo_id: str, min_side: int) -> None:
    """Swap in the package saved in `repo_id` and run it once, in a short GPU call: a package reads its kernels only
    on its first call, and one built for another GPU, torch or UNet fails there. On failure the UNet is left eager."""
    spaces.aoti_load(pipe.unet, repo_id)

    @spaces.GPU(duration=CHECK_SECONDS)
    def check_package():
        pipe("A lighthouse on a cliff", num_inference_steps=1, width=min_side, height=min_side, output_type="latent")

    try:
        check_package()
    except BaseException:
        del pipe.unet.forward  # aoti_load set the package as the instance's forward and left the weights in place
        raise


def reason(error: BaseException) -> str:
    """An exception as one short line of a log."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__
