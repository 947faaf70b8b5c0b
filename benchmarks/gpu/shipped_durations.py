"""The duration coefficients the template ships in kinds/<kind>/durations.json, one table per ZeroGPU size.

    uv run python benchmarks/gpu/shipped_durations.py    # rewrite both kinds' files from the provisional fits below

Each table comes from a fit on a reference GPU (overhead and per-unit seconds, and the GPU's share of that time),
converted per size by the Space's own zerogpu/calibrate.py, so a shipped file reads exactly like one that
`python -m zerogpu.calibrate` writes. benchmarks/gpu/calibrate_on_gpu.py measures the fits on a real GPU and writes
the same files; until it has run, the fits below are provisional: derived from public throughput figures, with the
basis written into each file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZES = ("large", "xlarge")


def load_calibrate(path: Path = ROOT / "template" / "zerogpu" / "calibrate.py") -> ModuleType:
    """The Space's calibrate module, imported from a file (it needs no torch for the arithmetic)."""
    spec = importlib.util.spec_from_file_location("zerogpu_calibrate", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is being made
    spec.loader.exec_module(module)
    return module


def kind_tables(fits: dict[str, dict[str, Any]], measured: dict[str, Any], calibrate: ModuleType) -> dict:
    """kinds/<kind>/durations.json's content: the Space's durations.json for each GPU size."""
    return {size: calibrate.build_table(fits, measured, size) for size in SIZES}


def write_kind(kind: str, tables: dict, calibrate: ModuleType, kinds_dir: Path = ROOT / "kinds") -> Path:
    path = kinds_dir / kind / "durations.json"
    path.write_text(calibrate.dumps(tables), encoding="utf-8")
    return path


PROVISIONAL_GPU = "NVIDIA A100-SXM4-80GB (provisional: derived from public figures, not measured)"
PROVISIONAL: dict[str, tuple[dict, dict]] = {
    "text-generation": (
        {
            "chat": {
                "unit": "new token",
                "overhead_s": 0.5,
                "per_unit_s": 0.035,
                "overhead_gpu_share": 0.3,
                "gpu_share": 0.06,
                "points": [],
            }
        },
        {
            "gpu": PROVISIONAL_GPU,
            "weights_gb": 3.42,
            "date": "2026-11-27",
            "basis": (
                "HuggingFaceTB/SmolLM2-1.7B-Instruct in bf16, transformers generate at batch 1 with sdpa. Per new "
                "token: gpt-fast's eager baseline decodes Llama-2-7B (32 layers) at 25.5 tokens/s on an A100, bound "
                "by CPU overhead rather than by the GPU (PyTorch blog, 'Accelerating Generative AI with PyTorch II: "
                "GPT, Fast'), i.e. 1.23 ms per layer; SmolLM2-1.7B has 24 layers (29 ms), plus 20% for transformers' "
                "generate loop (logits processors, KV cache, streamer): 35 ms. GPU share: the 3.42 GB of weights read "
                "per token take about 2 ms at the A100's 1.7 TB/s achieved, 6% of 35 ms. Overhead 0.5 s: chat "
                "template, a 200-token prefill, the generation thread and streamer, taken as 30% GPU time. Weights: "
                "1.71 B parameters in bf16."
            ),
        },
    ),
    "image-generation": (
        {
            "generate": {
                "unit": "step x megapixel",
                "overhead_s": 0.7,
                "per_unit_s": 0.0547,
                "overhead_gpu_share": 0.5,
                "gpu_share": 0.95,
                "points": [],
            }
        },
        {
            "gpu": PROVISIONAL_GPU,
            "weights_gb": 4.4,
            "date": "2026-11-27",
            "basis": (
                "segmind/SSD-1B (the SDXL pipeline with a 1.3 B-parameter distilled UNet) in bf16 with sdpa and "
                "classifier-free guidance. SDXL base draws a 1024x1024 image in 30 steps in 3.31 s on an 80 GB A100 "
                "in bf16 with SDPA (diffusers' tutorial 'Accelerate inference of text-to-image diffusion models', "
                "after the PyTorch blog 'Accelerating Generative AI Part III: Diffusion, Fast'); SSD-1B is 'up to "
                "60% faster' than SDXL (Segmind's model card): 2.07 s, of which about 0.35 s is outside the "
                "denoising loop (text encoders, VAE decode), so 1.72 s / (30 steps x 1.0486 megapixels) = 0.0547 s "
                "per step x megapixel. Overhead 0.7 s: text encoders and VAE decode on the GPU, PNG encoding of a "
                "1-megapixel image on the CPU: taken as 50% GPU time. GPU share per unit 0.95: the UNet dominates. Weights: UNet 1.3 B, text encoders 0.82 B and VAE "
                "0.08 B parameters in bf16."
            ),
        },
    ),
}


def main() -> int:
    calibrate = load_calibrate()
    for kind, (fits, measured) in PROVISIONAL.items():
        path = write_kind(kind, kind_tables(fits, measured, calibrate), calibrate)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
