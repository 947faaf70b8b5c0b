"""The default model's architecture at its real size, with random weights, for the GPU benchmarks
(benchmarks/gpu/calibrate_on_gpu.py, through this kind's calibrate_on_gpu.py): time does not depend on the values.
Never rendered into a Space.
"""

from pathlib import Path
from typing import Any

# timbrooks/instruct-pix2pix's unet/config.json: Stable Diffusion 1.5's UNet (860 M parameters) with an 8-channel
# input, the noisy latents beside the input image's.
PIX2PIX_UNET = {
    "sample_size": 64,
    "in_channels": 8,
    "out_channels": 4,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}
SD_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
}
CLIP_L = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "hidden_act": "quick_gelu",
}
# --smoke: the same code on CPU, shrunk (never for numbers).
SMOKE_UNET = {"block_out_channels": [32, 32, 64, 64], "cross_attention_dim": 32, "norm_num_groups": 8,
              "attention_head_dim": 2, "layers_per_block": 1}  # fmt: skip
SMOKE_VAE = {"block_out_channels": [8, 8, 8, 8], "layers_per_block": 1, "norm_num_groups": 4}
SMOKE_TEXT = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4}


def scaled(config: dict, smoke: bool, shrunk: dict) -> dict:
    return {**config, **shrunk} if smoke else config


def pipeline(device, dtype, smoke: bool) -> Any:
    """The InstructPix2Pix pipeline at its real size: random UNet, text encoder and VAE, the Space's CLIP tokenizer
    (its tests/ on sys.path), and the model's scheduler, without the safety checker (a CLIP image classifier run
    once per image, a few milliseconds)."""
    import tempfile

    import torch
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionInstructPix2PixPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from tiny_model import _load_clip_tokenizer, _write_clip_vocab

    with tempfile.TemporaryDirectory() as vocab_dir:
        _write_clip_vocab(Path(vocab_dir))
        tokenizer = _load_clip_tokenizer(Path(vocab_dir))
    text = {"vocab_size": 49408, "max_position_embeddings": 77, "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):
        parts = {
            "unet": UNet2DConditionModel(**scaled(PIX2PIX_UNET, smoke, SMOKE_UNET)),
            "vae": AutoencoderKL(**scaled(SD_VAE, smoke, SMOKE_VAE)),
            "text_encoder": CLIPTextModel(CLIPTextConfig(**text, **scaled(CLIP_L, smoke, SMOKE_TEXT))),
        }
    parts = {name: module.to(dtype).eval() for name, module in parts.items()}
    scheduler = EulerAncestralDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                                steps_offset=1)  # fmt: skip
    return StableDiffusionInstructPix2PixPipeline(**parts, tokenizer=tokenizer, scheduler=scheduler,
                                                  safety_checker=None, feature_extractor=None,
                                                  requires_safety_checker=False)  # fmt: skip


def build(directory: Path, device, smoke: bool) -> float:
    """A random-weight InstructPix2Pix, saved as the Hub holds it; returns billions of parameters."""
    import torch

    pipe = pipeline(device, torch.bfloat16 if device.type == "cuda" else torch.float32, smoke)
    pipe.save_pretrained(directory)
    modules = [pipe.unet, pipe.vae, pipe.text_encoder]
    print(f"  UNet: {sum(p.numel() for p in pipe.unet.parameters()) / 1e9:.3f} B parameters", flush=True)
    return sum(p.numel() for module in modules for p in module.parameters()) / 1e9
