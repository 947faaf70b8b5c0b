"""Measure each kind's default model on a GPU: the durations to ship, the table for docs/durations.md, AoTI timing.

Run on a machine with an NVIDIA GPU through benchmarks/gpu/run.sh, after benchmarks/gpu/prepare_calibrate.sh has rendered
the Spaces into .gpu-spaces/ and fetched the wheels the machine lacks into .gpu-wheels/ (docs/durations.md says how).
For each kind it builds the default model's architecture at its real size with random weights (time does not
depend on the values), runs the rendered Space's own `zerogpu.calibrate` on it, times a few more input sizes, and
then times the image kind's UNet eager against compiled ahead of time. Everything lands under $OUT:

  summary.md                        the Markdown tables (also printed): input size, actual and declared seconds,
                                    their ratio, and the rule sheet's defaults on the same inputs
  kinds/<kind>/durations.json       the coefficients to ship: copy over kinds/<kind>/durations.json
  <kind>.json                       everything measured, for the record
  aoti.json                         eager and compiled seconds per image at the default size

`--smoke` runs the same code on CPU with tiny models (no GPU: only to check the script itself, never for numbers).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPACES = ROOT / ".gpu-spaces"
KINDS = ("text-generation", "image-generation")
MARGIN = 1.25
# Calls per size; the slowest counts, as in `python -m zerogpu.calibrate`. Three for images, whose host-bound steps
# vary most from call to call; two for chat, whose long replies even the noise out (and take minutes).
REPEATS = {"chat": 2, "generate": 3}

# HuggingFaceTB/SmolLM2-1.7B-Instruct's config.json (a Llama): 24 layers of 2048 with 32 heads (no GQA), an MLP of
# 8192, a 49152-token vocabulary with tied embeddings; 1.71 B parameters.
SMOLLM2_1_7B = {
    "vocab_size": 49152,
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 24,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "max_position_embeddings": 8192,
    "rope_theta": 130000.0,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": True,
    "hidden_act": "silu",
}
# segmind/SSD-1B's own unet/config.json was not found through the search tool; this is stabilityai/stable-diffusion-
# xl-base-1.0's documented UNet config with transformer_layers_per_block [1, 2, 4] instead of [1, 2, 10], which
# keeps 34 of SDXL's 70 transformer blocks (Segmind removed 40 and one ResNet) and gives 1.3 B parameters, the
# size the SSD-1B paper (arXiv 2401.02677) gives for its UNet. The script prints the count it built.
SSD_1B_UNET = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "cross_attention_dim": 2048,
    "transformer_layers_per_block": [1, 2, 4],
    "attention_head_dim": [5, 10, 20],
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
SDXL_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
    "force_upcast": True,
}
CLIP_L = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
}
CLIP_BIG_G = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "hidden_act": "gelu",
    "projection_dim": 1280,
}

# Inputs timed beyond the fit's own spread, so the table also shows sizes the fit never saw.
EXTRA_SIZES = {
    "chat": [16, 512, (2048, 3500)],  # the last: the most new tokens after a prompt near MAX_INPUT_TOKENS
    "generate": [(4, 512, 512), (15, 768, 768), (30, 1024, 768), (40, 384, 896), (50, 512, 1024)],
}
MOST_NEW_TOKENS = 2048  # app.py's `at_most` for MAX_NEW_TOKENS
SMOKE_EXTRA_SIZES = {"chat": [4, (32, 300)], "generate": [(2, 256, 384)]}


def rule_sheet_default(handler: str, size: Any) -> int:
    """What the ZeroGPU rule sheet would declare: 60 s flat, or 3.5 s per diffusion step."""
    return int(size[0] * 3.5) if handler == "generate" else 60


# --- models (in the worker) ------------------------------------------------------------------------------------------


def scaled(config: dict, smoke: bool, **tiny: Any) -> dict:
    return {**config, **tiny} if smoke else config


def build_text_model(directory: Path, device, smoke: bool) -> float:
    """A random-weight SmolLM2-1.7B-Instruct with a 49152-token byte-level tokenizer; returns billions of params."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from tiny_model import CHAT_TEMPLATE

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: index for index, token in enumerate(specials + sorted(alphabet))}
    for index in range(len(vocab), SMOLLM2_1_7B["vocab_size"]):
        vocab[f"Ġw{index}"] = index  # whole words, so that every id the model draws decodes to text, as in SmolLM2
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.add_special_tokens(specials)
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=specials[0], eos_token=specials[2],
                                        pad_token=specials[2], unk_token=specials[0], model_max_length=8192)  # fmt: skip
    tokenizer.chat_template = CHAT_TEMPLATE
    ids = {"bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 2}
    config = LlamaConfig(**scaled(SMOLLM2_1_7B, smoke, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                  num_attention_heads=4, num_key_value_heads=4), **ids)  # fmt: skip
    with torch.device(device):
        model = LlamaForCausalLM(config).to(torch.bfloat16 if device.type == "cuda" else torch.float32).eval()
    model.generation_config = GenerationConfig(**ids)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return sum(p.numel() for p in model.parameters()) / 1e9


def build_image_model(directory: Path, device, smoke: bool) -> float:
    """A random-weight SSD-1B: the SDXL pipeline with the distilled UNet above; returns billions of params."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from tiny_model import _load_clip_tokenizer, _write_clip_vocab

    with tempfile.TemporaryDirectory() as vocab_dir:
        _write_clip_vocab(Path(vocab_dir))
        tokenizer = _load_clip_tokenizer(Path(vocab_dir))
        tokenizer_2 = _load_clip_tokenizer(Path(vocab_dir))
    text = {"vocab_size": 49408, "max_position_embeddings": 77, "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}  # fmt: skip
    tiny_text = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "projection_dim": 32}  # fmt: skip
    unet = scaled(SSD_1B_UNET, smoke, block_out_channels=[32, 64, 64], attention_head_dim=[2, 4, 4],
                  transformer_layers_per_block=[1, 1, 1], cross_attention_dim=64,
                  addition_time_embed_dim=8, projection_class_embeddings_input_dim=80, norm_num_groups=8)  # fmt: skip
    vae = scaled(SDXL_VAE, smoke, block_out_channels=[8, 8, 8, 8], layers_per_block=1, norm_num_groups=4)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    with torch.device(device):
        components = {
            "unet": UNet2DConditionModel(**unet),
            "vae": AutoencoderKL(**vae),
            "text_encoder": CLIPTextModel(CLIPTextConfig(**text, **scaled(CLIP_L, smoke, **tiny_text))),
            "text_encoder_2": CLIPTextModelWithProjection(CLIPTextConfig(**text, **scaled(CLIP_BIG_G, smoke,
                                                                                            **tiny_text))),
        }  # fmt: skip
    components = {name: module.to(dtype).eval() for name, module in components.items()}
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       steps_offset=1, timestep_spacing="leading")  # fmt: skip
    pipe = StableDiffusionXLPipeline(**components, tokenizer=tokenizer, tokenizer_2=tokenizer_2, scheduler=scheduler,
                                     add_watermarker=False)  # fmt: skip
    pipe.save_pretrained(directory)
    print(f"  UNet: {sum(p.numel() for p in components['unet'].parameters()) / 1e9:.3f} B parameters", flush=True)
    return sum(p.numel() for module in components.values() for p in module.parameters()) / 1e9


def smoke_patches() -> None:
    """On CPU (--smoke only): let the Space's calibrate run its code paths without CUDA."""
    import torch

    torch.cuda.synchronize = lambda *args, **kwargs: None
    torch.cuda.memory_allocated = lambda *args, **kwargs: 0
    torch.cuda.get_device_name = lambda *args, **kwargs: "CPU smoke test"


# --- the worker: one kind, in its own process ------------------------------------------------------------------------


def model_folder(models: Path, kind: str, device, smoke: bool) -> tuple[Path, float | None]:
    """The kind's random-weight model, saved once per run (the AoTI part reuses the image kind's)."""
    folder = models / kind
    if (folder / "done").is_file():
        return folder, None
    print(f"{kind}: building the default architecture with random weights", flush=True)
    build = build_text_model if kind == "text-generation" else build_image_model
    params_b = build(folder, device, smoke)
    (folder / "done").write_text(f"{params_b}\n")
    return folder, params_b


def worker(kind: str, out: Path, models: Path, smoke: bool) -> None:
    import torch

    space = SPACES / kind
    sys.path[:0] = [str(space), str(space / "tests")]
    os.chdir(space)
    device = torch.device("cpu" if smoke else "cuda")
    started = time.perf_counter()
    model_dir, params_b = model_folder(models, kind, device, smoke)
    params_b = params_b or float((model_dir / "done").read_text())
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()  # the built copy is gone: what app.py loads is all that stays on the GPU
    os.environ["MODEL_ID"] = str(model_dir)
    if smoke:
        smoke_patches()
    from zerogpu import calibrate

    gpu = "NVIDIA H100 80GB HBM3 (smoke test: the numbers are CPU seconds)" if smoke else calibrate.check_gpu()
    app = calibrate.import_app()
    weights_gb = round(torch.cuda.memory_allocated() / 1e9, 3) if not smoke else 0.0
    print(f"{kind}: {params_b:.2f} B parameters, {weights_gb} GB on {gpu}; built and loaded in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    plans = calibrate.load_plans()
    (handler,) = [name for name in plans if callable(getattr(app, name, None))]
    plan = plans[handler]
    extra_sizes = EXTRA_SIZES[handler]
    if handler == "chat":  # the UI's limit follows durations.json: measure up to the most it may ever offer
        app.MAX_NEW_TOKENS = MOST_NEW_TOKENS
    if smoke:  # a CPU only checks the code paths: small limits, small inputs
        app.MAX_NEW_TOKENS, app.MAX_STEPS, app.MAX_SIDE = 32, 4, 512
        extra_sizes = SMOKE_EXTRA_SIZES[handler]
    fit = calibrate.calibrate_handler(plan, app, REPEATS[handler])
    fit_sizes = plan.sizes(app)
    extra = calibrate.measure(plan, app, extra_sizes, REPEATS[handler])
    measured = {
        "gpu": gpu,
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "weights_gb": weights_gb,
        "command": "benchmarks/gpu/run.sh (benchmarks/gpu/calibrate_on_gpu.py)",
        "basis": (
            f"Measured with random weights of the default model's architecture at its real size ({params_b:.2f} B "
            "parameters; calibrate_on_gpu.py gives the config) by the Space's own `python -m zerogpu.calibrate` "
            f"code: the slowest of {REPEATS[handler]} calls per size, after a warm-up."
        ),
    }
    rows = []
    fit_points = list(zip(fit_sizes, (point["seconds"] for point in fit["points"]), strict=True))
    for source, points in (("fit", fit_points), ("check", extra)):
        for size, seconds in points:
            rows.append({"input": plan.label(size), "source": source, "units": plan.amounts(size),
                         "actual_s": round(seconds, 4), "rule_sheet_s": rule_sheet_default(handler, size)})  # fmt: skip
    # What was measured, and nothing derived: the report declares from the fit (declare()).
    result = {"kind": kind, "handler": handler, "params_b": params_b, "fit": fit, "measured": measured, "rows": rows,
              "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    (out / f"{kind}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{kind}: done in {result['seconds']} s", flush=True)


def aoti_worker(out: Path, models: Path, smoke: bool, steps: int) -> None:
    """Eager against ahead-of-time compiled seconds per image, at the app's default size, in the image Space."""
    import torch

    kind = "image-generation"
    space = SPACES / f"{kind}-aoti"  # the image Space rendered with aoti on (prepare_calibrate.sh)
    sys.path[:0] = [str(space), str(space / "tests")]
    os.chdir(space)
    device = torch.device("cpu" if smoke else "cuda")
    model_dir, _ = model_folder(models, kind, device, smoke)
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    os.environ["MODEL_ID"] = str(model_dir)
    if smoke:
        smoke_patches()
    from zerogpu import calibrate

    app = calibrate.import_app()
    if smoke:
        app.MAX_SIDE, steps = 512, 2
    size = (steps, app.MAX_SIDE, app.MAX_SIDE)  # the UI's default: 25 steps at 1024x1024
    plan = calibrate.load_plans()["generate"]
    result: dict[str, Any] = {"size": plan.label(size), "how": (
        "Timed with torch's own torch.export.export (through the Space's aoti_unet.export) and "
        "torch._inductor.aoti_compile_and_package / aoti_load_package: the spaces package is not in ZeroGPU mode "
        "here; on ZeroGPU, spaces.aoti_compile runs the same torch._inductor AOT compilation.")}  # fmt: skip

    def per_image() -> float:
        plan.run(app, size)  # warm-up
        return statistics.median(calibrate.time_call(plan, app, size) for _ in range(2))

    result["eager_s"] = round(per_image(), 3)
    print(f"aoti: eager {result['eager_s']} s per image ({result['size']})", flush=True)
    start = time.perf_counter()
    try:
        exported = app.aoti_unet.export(app.pipe, app.MIN_SIDE, app.MAX_SIDE)
    except Exception as error:  # noqa: BLE001 - spaces' capture helper may refuse outside ZeroGPU: use torch's hook
        print(f"aoti: spaces.aoti_capture failed ({type(error).__name__}: {error}); capturing with a patch", flush=True)
        from test_app import capture_first_call

        app.spaces.aoti_capture = capture_first_call
        exported = app.aoti_unet.export(app.pipe, app.MIN_SIDE, app.MAX_SIDE)
    result["export_s"] = round(time.perf_counter() - start, 1)
    print(f"aoti: exported in {result['export_s']} s", flush=True)
    start = time.perf_counter()
    package = torch._inductor.aoti_compile_and_package(exported, package_path=str(models / "unet.pt2"))
    compiled = torch._inductor.aoti_load_package(package)
    result["compile_s"] = round(time.perf_counter() - start, 1)
    print(f"aoti: compiled in {result['compile_s']} s", flush=True)
    app.pipe.unet.forward = lambda *args, **kwargs: compiled(*args, **kwargs)
    result["compiled_s"] = round(per_image(), 3)
    result["speedup"] = round(result["eager_s"] / result["compiled_s"], 2)
    print(f"aoti: compiled {result['compiled_s']} s per image, {result['speedup']}x", flush=True)
    (out / "aoti.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


# --- the report ------------------------------------------------------------------------------------------------------


def markdown(result: dict) -> str:
    """The Markdown section for one kind, from a result that declare() has filled in."""
    from zerogpu import calibrate

    fit, local, large = result["fit"], result["tables"]["local"], result["tables"]["large"]
    handler = result["handler"]
    entry = large["handlers"][handler]
    describe = calibrate.formula
    gpu = describe(fit["gpu"]["overhead_s"], fit["gpu"]["per_unit_s"])
    title = f"#### {result['kind']} ({handler}; {result['params_b']:.2f} B parameters, random weights) on "
    about = (
        f"Fit: {describe(fit['overhead_s'], fit['per_unit_s'])}, of which the GPU is busy {gpu}. Declared here: "
        f"the fit x {local['target']['margin']} margin, in whole seconds rounded up, at least 1 s. Shipped for "
        f"ZeroGPU large: {describe(entry['overhead_s'], entry['per_unit_s'])} (slice factor "
        f"{large['target']['slice_factor']}, grant factor {large['target']['grant_factor']}, cold start "
        f"{large['target']['cold_start_s']} s, floor {entry['floor_s']} s)."
    )
    lines = [
        title + local["measured"]["gpu"],
        "",
        about,
        "",
        "| input | actual s | declared s | declared/actual | rule sheet s | rule sheet/actual | ZeroGPU large declares |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        actual = row["actual_s"]
        label = row["input"] + (" (not in the fit)" if row["source"] == "check" else "")
        lines.append(
            f"| {label} | {actual:.2f} | {row['declared_local_s']} | {row['declared_local_s'] / actual:.2f} | "
            f"{row['rule_sheet_s']} | {row['rule_sheet_s'] / actual:.1f} | {row['declared_large_s']} s |"
        )
    ratios = [(row["declared_local_s"] / row["actual_s"], row) for row in result["rows"]]
    inside = sum(1.0 <= ratio <= 1.5 for ratio, _ in ratios)
    low, high = min(ratio for ratio, _ in ratios), max(ratio for ratio, _ in ratios)
    verdict = f"{inside} of {len(ratios)} ratios in [1.0, 1.5]; lowest {low:.2f}, highest {high:.2f}."
    under = [row["input"] for ratio, row in ratios if ratio < 1.0]
    verdict += f" Below 1.0: {'; '.join(under)}." if under else " None below 1.0."
    # Whole seconds: ZeroGPU takes whole seconds, at least 1, so the declared value is rounded up; where it is 1 s, or
    # where the fit with its margin stays within 1.5 x the actual time, only that takes the ratio past 1.5.
    forced = [row for ratio, row in ratios if ratio > 1.5 and (row["declared_local_s"] == 1
              or row.get("unrounded_local_s", math.inf) <= 1.5 * row["actual_s"])]  # fmt: skip
    if forced:
        verdict += (" Above 1.5 only through whole seconds (1 s is the least a call declares, and the fit with its "
                    f"margin is rounded up): {'; '.join(row['input'] for row in forced)}.")  # fmt: skip
    others = [row["input"] for ratio, row in ratios if ratio > 1.5 and row not in forced]
    if others:
        verdict += f" Above 1.5 otherwise: {'; '.join(others)}."
    lines += ["", verdict]
    return "\n".join(lines)


def aoti_markdown(aoti: dict | None, note: str) -> str:
    if aoti is None:
        return f"### AoTI (image-generation)\n\n{note}"
    return "\n".join([
        "### AoTI (image-generation UNet)", "",
        "| per image | seconds |", "| --- | ---: |",
        f"| eager, {aoti['size']} | {aoti['eager_s']:.2f} |",
        f"| compiled ahead of time, {aoti['size']} | {aoti['compiled_s']:.2f} |",
        f"| speed-up | {aoti['speedup']}x |",
        "", f"Export took {aoti['export_s']} s and compilation {aoti['compile_s']} s. {aoti['how']}",
    ])  # fmt: skip


def run_step(args: list[str], timeout: float, log) -> bool:
    if timeout < 30:
        print(f"skipped {' '.join(args)}: the time budget is spent", flush=True)
        return False
    command = [sys.executable, __file__, *args]
    try:
        done = subprocess.run(command, timeout=timeout, check=False, stdout=log, stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired:
        print(f"{' '.join(args)}: stopped after {timeout:.0f} s (time budget)", flush=True)
        return False
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-out")))
    parser.add_argument("--budget", type=float, default=460, help="seconds for everything (default: %(default)s)")
    parser.add_argument("--only", choices=[*KINDS, "aoti"], action="append", help="run only these parts")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny models: checks the script, not the numbers")
    parser.add_argument("--worker", choices=[*KINDS, "aoti"], help=argparse.SUPPRESS)
    parser.add_argument("--models", type=Path, help=argparse.SUPPRESS)  # the run's random-weight models
    parser.add_argument("--aoti-steps", type=int, default=25, help="steps per timed AoTI image (default: 25)")
    parser.add_argument("--report", action="store_true", help="only rewrite summary.md from the JSON under --out")
    args = parser.parse_args()
    if args.report:
        return report(args.out, args.only or [*KINDS, "aoti"])
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker == "aoti":
        aoti_worker(args.out, args.models, args.smoke, args.aoti_steps)
        return 0
    if args.worker:
        worker(args.worker, args.out, args.models, args.smoke)
        return 0

    if not all((SPACES / kind / "app.py").is_file() for kind in [*KINDS, "image-generation-aoti"]):
        print(
            f"{SPACES} lacks the rendered Spaces: run benchmarks/gpu/prepare_calibrate.sh first (here, not on the GPU)."
        )
        return 2
    if not args.smoke:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is None or not torch.cuda.is_available():
            print("No CUDA GPU here: this benchmark needs one (--smoke checks the script on CPU).")
            return 2
    deadline = time.monotonic() + args.budget
    parts = args.only or [*KINDS, "aoti"]
    smoke = ["--smoke"] if args.smoke else []
    models = Path(tempfile.mkdtemp(prefix="calibrate-on-gpu-"))  # several GB: never under $OUT
    with open(args.out / "workers.log", "a") as log:
        for part in parts:
            extra = ["--aoti-steps", str(args.aoti_steps)] if part == "aoti" else []
            command = ["--worker", part, "--out", str(args.out), "--models", str(models), *smoke, *extra]
            ok = run_step(command, deadline - time.monotonic(), log)
            print(f"{part}: {'done' if ok else 'FAILED or stopped: see workers.log'}", flush=True)
    return report(args.out, parts)


def declare(result: dict) -> dict:
    """The result with its tables and declared seconds, computed from its fit by calibrate.py as it is now (so that
    `--report` shows a change of margin or factors without timing anything again)."""
    from zerogpu import calibrate, durations

    handler, measured = result["handler"], result["measured"]
    tables = {target: calibrate.build_table({handler: result["fit"]}, measured, target, MARGIN)
              for target in calibrate.TARGETS}  # fmt: skip
    rows = [{**row, **{f"declared_{target}_s": durations.seconds_for(tables[target]["handlers"][handler], row["units"])
                       for target in tables},
             "unrounded_local_s": calibrate.unclamped(tables["local"]["handlers"][handler], row["units"])}
            for row in result["rows"]]  # fmt: skip
    return {**result, "tables": tables, "rows": rows}


def report(out: Path, parts: list[str]) -> int:
    from zerogpu import calibrate  # the repository's package (prepare_calibrate.sh puts its wheel in .gpu-wheels)

    sections = ["## Durations measured on a GPU", ""]
    for kind in [part for part in parts if part in KINDS]:
        path = out / f"{kind}.json"
        if not path.is_file():
            sections += [f"### {kind}\n\nNo result: see workers.log.", ""]
            continue
        result = declare(json.loads(path.read_text(encoding="utf-8")))
        tables = {size: result["tables"][size] for size in calibrate.GPU_SIZES}
        (out / "kinds" / kind).mkdir(parents=True, exist_ok=True)
        (out / "kinds" / kind / "durations.json").write_text(calibrate.dumps(tables), encoding="utf-8")
        sections += [markdown(result), ""]
    if "aoti" in parts:
        path = out / "aoti.json"
        aoti = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        sections += [aoti_markdown(aoti, "No result: compilation did not finish in the time budget (workers.log)."), ""]
    text = "\n".join(sections)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
