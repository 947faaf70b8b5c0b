"""The default model's architecture at its real size, with random weights, for the GPU benchmarks
(benchmarks/gpu/calibrate_on_gpu.py, through this kind's calibrate_on_gpu.py, its fast_path_on_gpu.py and
benchmarks/gpu/aoti_package_on_gpu.py): time does not depend on the values. Never rendered into a Space.
"""

import tempfile
from pathlib import Path
from typing import Any

# segmind/SSD-1B's own unet/config.json was not found through the search tool; this is stabilityai/stable-diffusion-
# xl-base-1.0's documented UNet config with transformer_layers_per_block [1, 2, 4] instead of [1, 2, 10], which
# keeps 34 of SDXL's 70 transformer blocks (Segmind removed 40 and one ResNet) and gives 1.3 B parameters, the
# size the SSD-1B paper (arXiv 2401.02677) gives for its UNet. The benchmarks print the count they built.
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
# --smoke: the same code on CPU, shrunk (never for numbers).
SMOKE_UNET = {"block_out_channels": [32, 64, 64], "attention_head_dim": [2, 4, 4],
              "transformer_layers_per_block": [1, 1, 1], "cross_attention_dim": 64, "addition_time_embed_dim": 8,
              "projection_class_embeddings_input_dim": 80, "norm_num_groups": 8}  # fmt: skip
SMOKE_VAE = {"block_out_channels": [8, 8, 8, 8], "layers_per_block": 1, "norm_num_groups": 4}
SMOKE_TEXT = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
              "projection_dim": 32}  # fmt: skip


def scaled(config: dict, smoke: bool, shrunk: dict) -> dict:
    return {**config, **shrunk} if smoke else config


def unet(device, dtype, smoke: bool) -> Any:
    """SSD-1B's UNet in memory, seeded (the fast-path benchmark compares runs of the same weights)."""
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    with torch.device(device):
        return UNet2DConditionModel(**scaled(SSD_1B_UNET, smoke, SMOKE_UNET)).to(dtype).eval()


def pipeline(device, dtype, smoke: bool, denoiser=None) -> Any:
    """The SDXL pipeline around SSD-1B's UNet (or `denoiser`): random text encoders and VAE, the Space's CLIP
    tokenizers (its tests/ on sys.path), and SSD-1B's scheduler."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from tiny_model import _load_clip_tokenizer, _write_clip_vocab

    with tempfile.TemporaryDirectory() as vocab_dir:
        _write_clip_vocab(Path(vocab_dir))
        tokenizers = [_load_clip_tokenizer(Path(vocab_dir)) for _ in range(2)]
    text = {"vocab_size": 49408, "max_position_embeddings": 77, "bos_token_id": tokenizers[0].bos_token_id,
            "eos_token_id": tokenizers[0].eos_token_id, "pad_token_id": tokenizers[0].pad_token_id}  # fmt: skip
    with torch.device(device):
        parts = {
            "vae": AutoencoderKL(**scaled(SDXL_VAE, smoke, SMOKE_VAE)),
            "text_encoder": CLIPTextModel(CLIPTextConfig(**text, **scaled(CLIP_L, smoke, SMOKE_TEXT))),
            "text_encoder_2": CLIPTextModelWithProjection(CLIPTextConfig(**text, **scaled(CLIP_BIG_G, smoke,
                                                                                        SMOKE_TEXT))),
        }  # fmt: skip
    parts = {name: module.to(dtype).eval() for name, module in parts.items()}
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       steps_offset=1, timestep_spacing="leading")  # fmt: skip
    return StableDiffusionXLPipeline(**parts, unet=denoiser if denoiser is not None else unet(device, dtype, smoke),
                                     tokenizer=tokenizers[0], tokenizer_2=tokenizers[1], scheduler=scheduler,
                                     add_watermarker=False)  # fmt: skip


def build(directory: Path, device, smoke: bool) -> float:
    """A random-weight SSD-1B, saved as the Hub holds it; returns billions of parameters."""
    import torch

    pipe = pipeline(device, torch.bfloat16 if device.type == "cuda" else torch.float32, smoke)
    pipe.save_pretrained(directory)
    modules = [pipe.unet, pipe.vae, pipe.text_encoder, pipe.text_encoder_2]
    print(f"  UNet: {sum(p.numel() for p in pipe.unet.parameters()) / 1e9:.3f} B parameters", flush=True)
    return sum(p.numel() for module in modules for p in module.parameters()) / 1e9
