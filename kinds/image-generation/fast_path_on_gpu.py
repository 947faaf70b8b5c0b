"""The image app's fast path on a GPU, for benchmarks/gpu/fast_paths_on_gpu.py (which loads this file by path and
passes the ceilings it measured): milliseconds per UNet step eager and replayed from a CUDA graph (and with
channels_last weights), at several sizes with guidance (batch 2), against the matrix rate (the step's FLOPs counted
by torch's FlopCounter); and whole images, eager against graphs, compared pixel by pixel. The model is
full_size_model.py's SSD-1B shape. Never rendered into a Space.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import kind_parts  # benchmarks/gpu/, on the path of the script that loads this file
from gpu_timing import say, timed

full_size_model = kind_parts.load(kind_parts.kind_of(__file__), "full_size_model")

SIDES = [512, 768, 1024]
SMOKE_SIDES = [256]
# The summary's check (tests/test_durations.py): a made-up result, and a line of the table it must give.
SUMMARY_EXAMPLE = {
    "unet_params_b": 1.3, "gpu": "GPU", "matmul_tflops": 800.0,
    "rows": [{"side": 1024, "tflop": 8.0, "eager_ms_contiguous": 40.0, "graph_ms_contiguous": 25.0,
              "eager_share_contiguous": 0.25, "graph_share_contiguous": 0.4, "eager_ms_channels_last": 41.0,
              "graph_ms_channels_last": 26.0, "graph_share_channels_last": 0.38,
              "graph_vs_eager_max_abs_contiguous": 0.0}],
    "images": {"steps": 25, "side": 1024, "eager_s": 2.0, "fast_s": 1.0, "max_abs_pixel": 0, "mean_abs_pixel": 0.0,
               "psnr_db": float("inf")},
}  # fmt: skip
SUMMARY_LINE = "| 1024x1024 | 8.00 | 40.0 | 25.0 | 10.0 | 25.0% | 40.0% |"  # 8 TFLOP at 800 TFLOP/s: 10 ms


def unet_inputs(unet, side: int, device, dtype) -> dict[str, Any]:
    import torch

    latent = side // 8
    hidden = unet.config.cross_attention_dim
    pooled = unet.config.projection_class_embeddings_input_dim - 6 * unet.config.addition_time_embed_dim
    return {
        "sample": torch.randn(2, 4, latent, latent, device=device, dtype=dtype),
        "timestep": torch.tensor(500.0, device=device),
        "encoder_hidden_states": torch.randn(2, 77, hidden, device=device, dtype=dtype),
        "added_cond_kwargs": {
            "text_embeds": torch.randn(2, pooled, device=device, dtype=dtype),
            "time_ids": torch.tensor([[side, side, 0, 0, side, side]] * 2, device=device, dtype=dtype),
        },
    }


def measure(space: Path, ceilings: dict, smoke: bool, sizes: list[int] | None, deterministic: bool) -> dict[str, Any]:
    """Everything above, in the rendered Space `space` (its own fast_unet.py and cuda_graphs.py); `sizes`: the image
    sides to time a step at (default SIDES). `deterministic` changes nothing here (torch's switch is the caller's)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    sys.path[:0] = [str(space), str(space / "tests")]
    import cuda_graphs
    import fast_unet

    device = torch.device("cpu" if smoke else "cuda")
    dtype = torch.float32 if smoke else torch.bfloat16
    graph = cuda_graphs.EmulatedGraph if smoke else None
    result: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0) if not smoke else "CPU (smoke test)",
                              "torch": torch.__version__, **ceilings}  # fmt: skip
    unet = full_size_model.unet(device, dtype, smoke)
    result["unet_params_b"] = sum(p.numel() for p in unet.parameters()) / 1e9
    say(f"image: UNet {result['unet_params_b']:.3f} B parameters")
    repeats = 3 if smoke else 10
    rows = []
    with torch.no_grad():
        for side in SMOKE_SIDES if smoke else sizes or SIDES:
            inputs = unet_inputs(unet, side, device, dtype)
            with FlopCounterMode(display=False) as counter:
                unet(**inputs, return_dict=False)
            row: dict[str, Any] = {"side": side, "tflop": counter.get_total_flops() / 1e12}
            for layout in ("contiguous", "channels_last"):
                if layout == "channels_last":
                    unet.to(memory_format=torch.channels_last)
                eager_forward = unet.forward
                graphed = fast_unet.GraphedForward(unet, eager_forward, graph)

                def steps(forward, count=repeats, inputs=inputs):
                    for _ in range(count):
                        forward(**inputs, return_dict=False)

                steps(eager_forward, 2)
                row[f"eager_ms_{layout}"] = timed(lambda forward=eager_forward: steps(forward)) / repeats * 1e3
                reference = eager_forward(**inputs, return_dict=False)[0]
                steps(graphed, 3)  # the capture and its two checks
                row[f"graph_ms_{layout}"] = timed(lambda forward=graphed: steps(forward)) / repeats * 1e3
                replayed = graphed(**inputs, return_dict=False)[0]
                row[f"graph_kept_{layout}"] = all(entry is not None for entry in graphed.entries.values())
                row[f"graph_vs_eager_max_abs_{layout}"] = (replayed.float() - reference.float()).abs().max().item()
            unet.to(memory_format=torch.contiguous_format)
            for key in [key for key in row if "_ms_" in key]:
                row[key.replace("_ms_", "_share_")] = row["tflop"] / (row[key] / 1e3) / result["matmul_tflops"]
            say(f"image: {side}x{side}, guidance (batch 2), {row['tflop']:.2f} TFLOP per step: eager "
                f"{row['eager_ms_contiguous']:.1f} ms ({row['eager_share_contiguous']:.1%} of the matrix rate), "
                f"graph {row['graph_ms_contiguous']:.1f} ms ({row['graph_share_contiguous']:.1%}); channels_last: "
                f"eager {row['eager_ms_channels_last']:.1f}, graph {row['graph_ms_channels_last']:.1f} ms "
                f"({row['graph_share_channels_last']:.1%}); graph vs eager max |difference| "
                f"{row['graph_vs_eager_max_abs_contiguous']:.3g}")  # fmt: skip
            rows.append(row)
    result["rows"] = rows
    result["images"] = whole_images(unet, device, dtype, smoke, fast_unet, graph)
    return result


def whole_images(unet, device, dtype, smoke: bool, fast_unet, graph) -> dict[str, Any]:
    """Whole images (SDXL pipeline around the UNet, random text encoders and VAE), eager against graphs."""
    import numpy as np
    import torch

    pipe = full_size_model.pipeline(device, dtype, smoke, denoiser=unet)
    pipe.set_progress_bar_config(disable=True)
    steps, side = (3, 256) if smoke else (25, 1024)
    eager_forward = unet.forward

    def draw() -> np.ndarray:
        image = pipe("A lighthouse on a cliff at sunset", num_inference_steps=steps, guidance_scale=7.0, width=side,
                     height=side, generator=torch.Generator(device).manual_seed(0)).images[0]  # fmt: skip
        return np.asarray(image).astype(np.int16)

    draw()
    eager_s = timed(draw)
    eager = draw()
    fast_unet.apply(unet, graph)
    draw()
    fast_s = timed(draw)
    fast = draw()
    unet.forward = eager_forward
    difference = np.abs(fast - eager)
    mse = float((difference.astype(np.float64) ** 2).mean())
    result = {"steps": steps, "side": side, "eager_s": eager_s, "fast_s": fast_s,
              "max_abs_pixel": int(difference.max()), "mean_abs_pixel": float(difference.mean()),
              "psnr_db": math.inf if mse == 0 else 10 * math.log10(255**2 / mse)}  # fmt: skip
    say(f"image: {steps} steps at {side}x{side}: eager {eager_s:.2f} s, graphs {fast_s:.2f} s per image; pixels "
        f"differ by at most {result['max_abs_pixel']}/255 (mean {result['mean_abs_pixel']:.3f}, "
        f"PSNR {result['psnr_db']:.1f} dB)")  # fmt: skip
    return result


def summary(result: dict) -> str:
    """The Markdown section: every step's time as a share of the matrix rate measured in the same run."""
    lines = [
        (
            f"Image, SSD-1B-shape UNet ({result['unet_params_b']:.3f} B parameters, bf16, random), guidance as batch 2, "
            f"on {result['gpu']}: bf16 matrix rate {result['matmul_tflops']:.0f} TFLOP/s."
        ),
        "",
        (
            "| size | TFLOP per step | eager ms | graph ms | ceiling ms | eager / ceiling | graph / ceiling | "
            "channels_last eager ms | channels_last graph ms | its share |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        ceiling_ms = row["tflop"] / result["matmul_tflops"] * 1e3
        lines.append(f"| {row['side']}x{row['side']} | {row['tflop']:.2f} | {row['eager_ms_contiguous']:.1f} | "
                     f"{row['graph_ms_contiguous']:.1f} | {ceiling_ms:.1f} | {row['eager_share_contiguous']:.1%} | "
                     f"{row['graph_share_contiguous']:.1%} | {row['eager_ms_channels_last']:.1f} | "
                     f"{row['graph_ms_channels_last']:.1f} | {row['graph_share_channels_last']:.1%} |")  # fmt: skip
    images = result["images"]
    lines += ["", "Graph vs eager UNet output, max |difference| per size: " + ", ".join(
        f"{row['side']}: {row['graph_vs_eager_max_abs_contiguous']:.3g}" for row in result["rows"]) + ". "
        f"Whole images, {images['steps']} steps at {images['side']}x{images['side']}: eager "
        f"{images['eager_s']:.2f} s, graphs {images['fast_s']:.2f} s; pixels differ by at most "
        f"{images['max_abs_pixel']}/255 (mean {images['mean_abs_pixel']:.3f}, PSNR {images['psnr_db']:.1f} dB)."]  # fmt: skip
    return "\n".join(lines)
