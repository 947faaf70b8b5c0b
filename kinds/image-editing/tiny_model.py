"""Tiny random-weight InstructPix2Pix pipeline for offline tests of the image-editing Space.

``save_tiny_model(directory)`` writes a StableDiffusionInstructPix2PixPipeline (the architecture of
timbrooks/instruct-pix2pix, shrunk): a tiny UNet2DConditionModel whose input takes the noisy latents and the input
image's latents together (8 channels), a tiny AutoencoderKL with four blocks (so the VAE scale factor is 8, as in
Stable Diffusion 1.5), a CLIPTextModel with a CLIPTokenizer built from a hand-written vocab.json/merges.txt, and an
EulerAncestralDiscreteScheduler, with no safety checker. Load with::

    pipe = diffusers.DiffusionPipeline.from_pretrained(directory, dtype=torch.float32)
    image = pipe("make it snow", image=PIL.Image.new("RGB", (64, 48)), num_inference_steps=2).images[0]

Sides are multiples of 8. Configs follow diffusers' StableDiffusionInstructPix2PixPipelineFastTests.
"""

from __future__ import annotations

import json
import pathlib
import string
import tempfile

import torch
from diffusers import (
    AutoencoderKL,
    EulerAncestralDiscreteScheduler,
    StableDiffusionInstructPix2PixPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
TEXT_HIDDEN = 32  # the text encoder's hidden size, and the UNet's cross_attention_dim


def _write_clip_vocab(folder: pathlib.Path) -> None:
    """A tiny CLIP BPE vocabulary: specials, single chars with and without </w>, a few merges."""
    symbols = list(string.ascii_lowercase + string.digits + ".,!?'-")
    vocab: dict[str, int] = {BOS: 0, EOS: 1}
    for s in symbols:
        vocab.setdefault(s, len(vocab))
    for s in symbols:
        vocab.setdefault(s + "</w>", len(vocab))
    merges = ["t h", "th e</w>", "a n", "an d</w>", "o f</w>", "a t</w>", "i t</w>", "i n", "o n</w>"]
    for merge in merges:
        vocab.setdefault(merge.replace(" ", ""), len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, indent=0), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")


def _load_clip_tokenizer(folder: pathlib.Path) -> CLIPTokenizer:
    # transformers 5 converts vocab.json + merges.txt into a tokenizers-backed CLIPTokenizer.
    return CLIPTokenizer.from_pretrained(
        folder, bos_token=BOS, eos_token=EOS, pad_token=EOS, unk_token=EOS, model_max_length=77
    )


def save_tiny_model(directory: pathlib.Path) -> None:
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        vocab_dir = pathlib.Path(tmp)
        _write_clip_vocab(vocab_dir)
        tokenizer = _load_clip_tokenizer(vocab_dir)

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(2, 4),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,  # the noisy latents and the input image's latents, side by side
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        cross_attention_dim=TEXT_HIDDEN,
        norm_num_groups=1,
    )
    scheduler = EulerAncestralDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=[4, 4, 4, 4],  # 4 blocks -> vae_scale_factor 8, like Stable Diffusion
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        sample_size=256,
    )
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,  # pooled output taken at the first eos
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=TEXT_HIDDEN,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    pipe = StableDiffusionInstructPix2PixPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(directory)


if __name__ == "__main__":  # uv run tests/tiny_model.py tiny-model   (then: MODEL_ID=tiny-model uv run app.py)
    import argparse

    parser = argparse.ArgumentParser(description="Write a tiny random image-editing pipeline for the app.")
    parser.add_argument("directory", type=pathlib.Path, help="where to write it (a new or empty folder)")
    directory = parser.parse_args().directory
    if directory.exists() and any(directory.iterdir()):
        parser.error(f"{directory} is not empty: give a new folder")
    save_tiny_model(directory)
    print(f"Wrote {directory}/. Run the app on it: MODEL_ID={directory} uv run app.py")
