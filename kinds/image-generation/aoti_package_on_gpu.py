"""The AoTI package path end to end on one GPU: compile once and save, then load at start-up instead of compiling.

    OUT="$OUT" SCRIPT=kinds/image-generation/aoti_package_on_gpu.py bash benchmarks/gpu/run.sh                  # tiny UNet
    OUT="$OUT" SCRIPT=kinds/image-generation/aoti_package_on_gpu.py bash benchmarks/gpu/run.sh --model ssd-1b  # SSD-1B
    python kinds/image-generation/aoti_package_on_gpu.py --cpu --out /tmp/aoti-e2e                # the same on CPU
    python kinds/image-generation/aoti_package_on_gpu.py --cpu --model ssd-1b-smoke --out /tmp/s  # ssd-1b's, shrunk

(run.sh, on the GPU machine, with .gpu-wheels/ and .gpu-spaces/ from prepare_calibrate.sh carried over; on CPU, run
it with the rendered Space's own Python: .gpu-spaces/image-generation-aoti after `uv sync` there, or any Space
rendered with aoti on.)

In the image Space rendered with aoti on (.gpu-spaces/image-generation-aoti/, from prepare_calibrate.sh), on the
Space's tiny random model or a random-weight pipeline of SSD-1B's shape (full_size_model.py, beside this file):

1. scripts/compile_unet.py's own compile_package() exports the app's UNet as the app does and compiles it with
   spaces.aoti_compile_and_save into a local folder standing in for the Hub repo (the GPU machine has no network);
2. the eager images are drawn at a few sizes (with guidance, batch 2, and without), before anything is swapped;
3. the app's own start-up step, aoti_unet.apply(), loads the package with spaces.aoti_load, its snapshot_download
   answered from that folder, and runs it once (the package check), as on ZeroGPU (aoti_unet.on_zerogpu is forced:
   the spaces package itself is not in ZeroGPU mode here, so its @spaces.GPU calls run in this process);
4. the same images again, compared with the eager ones: mean absolute difference at most MEAN_TOLERANCE and at most
   MAX_TOLERANCE for any pixel, on [0, 1] (bf16 on the GPU: compiled kernels round differently from eager ones).

It prints the compile seconds against the load seconds (their ratio, measured in the same run) and the seconds per
image eager and loaded, and writes aoti_package.json under --out. It exits non-zero when the loader does not load
the package, or an image is off by more than the tolerances. --cpu runs all of it on CPU (inductor's C++ backend, a
few minutes for the tiny UNet): a check of the script, not a figure for the GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent  # this kind's folder
SPACE = HERE.parents[1] / ".gpu-spaces" / f"{HERE.name}-aoti"  # this kind with aoti on (prepare_calibrate.sh)
SIZES = [(1024, 1024, 5.0), (768, 512, 5.0), (512, 512, 0.0)]  # width, height, guidance (0: batch 1)
STEPS = 4
MEAN_TOLERANCE, MAX_TOLERANCE = 0.02, 0.25
REPO = "local/unet-aoti"


def build_model(models: Path, which: str, cpu: bool) -> Path:
    """The Space's tiny random model, or a random-weight pipeline of SSD-1B's shape (full_size_model.py's, shrunk
    with ssd-1b-smoke)."""
    folder = models / which
    if which == "tiny":
        from tiny_model import save_tiny_model

        save_tiny_model(folder)
    else:
        import torch

        sys.path.insert(0, str(HERE))
        import full_size_model

        device = torch.device("cpu" if cpu else "cuda")
        full_size_model.build(folder, device, smoke=which == "ssd-1b-smoke")
    return folder


def images(pipe, sizes) -> list:
    import torch

    drawn = []
    for width, height, guidance in sizes:
        generator = torch.Generator(pipe.device).manual_seed(7)
        result = pipe("a red cube on a table", num_inference_steps=STEPS, guidance_scale=guidance, width=width,
                      height=height, generator=generator, output_type="np")  # fmt: skip
        drawn.append(result.images[0])
    return drawn


def timed(function, *args):
    import torch

    started = time.perf_counter()
    result = function(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - started


def local_hub(repo_dir: Path):
    """huggingface_hub.snapshot_download for spaces.aoti_load, answered from repo_dir with the library's own filter."""
    import shutil

    from huggingface_hub.utils import filter_repo_objects

    def snapshot_download(repo_id, revision=None, allow_patterns=None, **kwargs):
        assert repo_id == REPO, repo_id
        local = repo_dir.parent / "snapshot"
        files = [path.relative_to(repo_dir).as_posix() for path in repo_dir.rglob("*") if path.is_file()]
        for name in filter_repo_objects(files, allow_patterns=allow_patterns):
            (local / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo_dir / name, local / name)
        return str(local)

    return snapshot_download


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="where aoti_package.json and the package go")
    parser.add_argument("--model", choices=["tiny", "ssd-1b", "ssd-1b-smoke"], default="tiny",
                        help="the pipeline: tiny (default), SSD-1B's shape, or that code path shrunk (for --cpu)")  # fmt: skip
    parser.add_argument("--cpu", action="store_true", help="run on CPU: checks the script, measures nothing")
    args = parser.parse_args()
    if not (SPACE / "app.py").is_file():
        sys.exit(f"{SPACE} is missing: run benchmarks/gpu/prepare_calibrate.sh first (and carry .gpu-spaces).")
    if args.cpu:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path[:0] = [str(SPACE), str(SPACE / "tests"), str(SPACE / "scripts")]
    os.chdir(SPACE)
    import torch

    if not args.cpu and not torch.cuda.is_available():
        sys.exit("No CUDA GPU here: run with --cpu to check the script on CPU.")
    result: dict = {"model": args.model, "device": "cpu" if args.cpu else torch.cuda.get_device_name(0),
                    "torch": torch.__version__, "steps": STEPS}  # fmt: skip
    print(f"aoti package: {result['device']}, torch {torch.__version__}, the {args.model} model", flush=True)
    os.environ["MODEL_ID"] = str(build_model(args.out / "models", args.model, args.cpu))

    import compile_unet  # the Space's script: it imports app.py with its own start-up AoTI step off

    app = compile_unet.import_app()
    import huggingface_hub

    import aoti_unet

    repo_dir = args.out / "hub" / REPO
    _, result["compile_s"] = timed(compile_unet.compile_package, app, repo_dir)
    result["package_files"] = sorted(path.relative_to(repo_dir).as_posix() for path in repo_dir.rglob("*.pt2"))
    print(f"compiled and saved in {result['compile_s']:.1f} s: {result['package_files']}", flush=True)

    eager, result["eager_s"] = timed(images, app.pipe, SIZES)
    aoti_unet.on_zerogpu = lambda: True  # the app's loader path, as on ZeroGPU
    os.environ.pop("AOTI", None)
    huggingface_hub.snapshot_download = local_hub(repo_dir)
    how, result["load_s"] = timed(aoti_unet.apply, app.pipe, REPO, app.MIN_SIDE, app.MAX_SIDE)
    result["loader"] = how
    print(f"aoti_unet.apply: {how} in {result['load_s']:.1f} s (the package checked once)", flush=True)
    from spaces.zero.torch.aoti import LazyAOTIModelWithWeights

    swapped = isinstance(vars(app.pipe.unet).get("forward"), LazyAOTIModelWithWeights)  # what spaces.aoti_load sets
    if how != "loaded" or not swapped:
        (args.out / "aoti_package.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"FAIL: the loader did not load the package ({how}; package swapped in: {swapped})", flush=True)
        return 1
    loaded, result["loaded_s"] = timed(images, app.pipe, SIZES)
    result["sizes"], failures = [], 0
    for (width, height, guidance), before, after in zip(SIZES, eager, loaded, strict=True):
        difference = abs(before.astype("float64") - after.astype("float64"))
        row = {"size": f"{width}x{height}", "guidance": guidance, "mean_abs": float(difference.mean()),
               "max_abs": float(difference.max())}  # fmt: skip
        row["ok"] = row["mean_abs"] <= MEAN_TOLERANCE and row["max_abs"] <= MAX_TOLERANCE
        failures += not row["ok"]
        result["sizes"].append(row)
        print(f"  {row['size']} guidance {guidance}: mean |diff| {row['mean_abs']:.2e}, max {row['max_abs']:.2e}"
              f" ({'ok' if row['ok'] else 'OVER TOLERANCE'})", flush=True)  # fmt: skip
    result["load_over_compile"] = round(result["load_s"] / result["compile_s"], 4)
    result["loaded_over_eager"] = round(result["loaded_s"] / result["eager_s"], 3)
    print(f"compile {result['compile_s']:.1f} s vs load {result['load_s']:.1f} s: load takes "
          f"{result['load_over_compile']:.1%} of a start-up compile", flush=True)  # fmt: skip
    print(f"images ({len(SIZES)}, {STEPS} steps): eager {result['eager_s']:.2f} s, loaded package "
          f"{result['loaded_s']:.2f} s ({result['loaded_over_eager']}x eager's time; the first loaded call includes "
          "loading kernels)", flush=True)  # fmt: skip
    (args.out / "aoti_package.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("PASS" if not failures else f"FAIL: {failures} image(s) over tolerance", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
