"""The fast paths on a GPU: speed against the hardware's ceilings, and equality with eager, in one run.

    python benchmarks/gpu/fast_paths_on_gpu.py --out "$OUT"            # on a machine with an NVIDIA GPU
    python benchmarks/gpu/fast_paths_on_gpu.py --smoke --out /tmp/fp   # CPU, tiny models: checks the script only

It imports the rendered Spaces' own fast_decode.py and fast_unet.py (from .gpu-spaces/, made by
benchmarks/gpu/prepare_calibrate.sh) and builds each kind's default architecture at its real size with random
weights (speed does not depend on the values): SmolLM2-1.7B-Instruct's Llama, and SSD-1B's UNet (with its text
encoders and VAE for the whole-image check). In the same process it measures the two ceilings: the memory bandwidth
(a 2 GiB device-to-device copy, bytes read plus written) and the bf16 matrix rate (an 8192^3 product). Then:

- text: new tokens per second of transformers' `generate` and of `fast_decode.generate` at several prompt lengths,
  against the bandwidth limit (the weights' bytes read once per token); greedy tokens of the graph-replayed step
  against the eager static-cache step over a long answer, and their logits; the eager step's logits against
  transformers' forward; the same greedy answer in float32 against `generate`; and a planted capture-unsafe step,
  which the fast path must catch;
- image: milliseconds per UNet step eager and replayed from a CUDA graph (and with channels_last weights), at
  several sizes with guidance (batch 2), against the matrix rate (the step's FLOPs counted by torch's FlopCounter);
  and whole images, eager against graphs, compared pixel by pixel.

Under --out: text.json, image.json, summary.md (the tables, also printed), run.log.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPACES = ROOT / ".gpu-spaces"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import calibrate_on_gpu as models  # the architectures, as the calibration builds them

PROMPTS = [128, 512, 2048, 4000]  # prompt tokens; the app accepts up to 4096
SIDES = [512, 768, 1024]
SMOKE_PROMPTS, SMOKE_SIDES = [16, 40], [256]


def say(text: str) -> None:
    print(text, flush=True)


def synchronize() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(function, repeats: int = 1) -> float:
    """Median seconds of `repeats` calls, the device drained before and after each."""
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        function()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ceilings(device, smoke: bool) -> dict[str, float]:
    import torch

    size = (2**20 if smoke else 2**30) // 2  # bf16 elements: 2 GiB (1 MiB in a smoke test)
    source, target = torch.randn(size, device=device, dtype=torch.bfloat16), torch.empty(size, device=device,
                                                                                         dtype=torch.bfloat16)  # fmt: skip
    target.copy_(source)
    copy_s = timed(lambda: target.copy_(source), 10)
    side = 512 if smoke else 8192
    a, b = (torch.randn(side, side, device=device, dtype=torch.bfloat16) for _ in range(2))
    a @ b
    matmul_s = timed(lambda: a @ b, 10)
    result = {"bandwidth_tbs": 2 * source.nbytes / copy_s / 1e12, "matmul_tflops": 2 * side**3 / matmul_s / 1e12}
    say(f"ceilings: copy {result['bandwidth_tbs']:.2f} TB/s, bf16 matmul {result['matmul_tflops']:.0f} TFLOP/s")
    return result


# --- text --------------------------------------------------------------------------------------------------------


def text_model(device, smoke: bool, dtype):
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    ids = {"bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 2}
    config = LlamaConfig(**models.scaled(models.SMOLLM2_1_7B, smoke, hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4),
                         **ids)  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype).eval()
    model.generation_config = GenerationConfig(**ids)
    return model


def operation_checks(device) -> dict[str, dict[str, float]]:
    """Each kind of operation in the decode step, alone, at the default model's shapes: how far a second eager call
    and a CUDA graph's replay are from a first eager call on the same inputs (max |difference|)."""
    import torch
    import torch.nn.functional as F

    sys.path.insert(0, str(SPACES / "text-generation"))
    import cuda_graphs

    def bf16(*shape):
        return torch.randn(*shape, device=device, dtype=torch.bfloat16)

    row, wide = bf16(1, 2048), bf16(1, 8192)
    weights = {name: bf16(*shape) for name, shape in
               {"2048x2048": (2048, 2048), "2048to8192": (8192, 2048), "8192to2048": (2048, 8192),
                "2048to49152": (49152, 2048)}.items()}  # fmt: skip
    query, keys, values = bf16(1, 32, 1, 64), bf16(1, 32, 1024, 64), bf16(1, 32, 1024, 64)
    mask = torch.zeros(1, 1, 1, 1024, device=device, dtype=torch.bfloat16)
    mask[..., 700:] = float("-inf")
    norm_weight, rotation = bf16(2048), bf16(64, 64)
    operations = {
        "linear 2048->2048 (M=1)": lambda: F.linear(row, weights["2048x2048"]),
        "linear 2048->8192 (M=1)": lambda: F.linear(row, weights["2048to8192"]),
        "linear 8192->2048 (M=1)": lambda: F.linear(wide, weights["8192to2048"]),
        "linear 2048->49152 (M=1)": lambda: F.linear(row, weights["2048to49152"]),
        "addmm_ residual (M=1)": lambda: row.clone().addmm_(row, weights["2048x2048"].t()),
        "sdpa with a mask (q_len 1, 1024 keys)": lambda: F.scaled_dot_product_attention(query, keys, values,
                                                                                         attn_mask=mask),
        "rms_norm": lambda: F.rms_norm(row, (2048,), norm_weight, 1e-5),
        "rotation matmul": lambda: query.view(32, 64) @ rotation,
    }  # fmt: skip
    results = {}
    for name, operation in operations.items():
        first = operation().clone()
        second = operation().clone()
        graph = cuda_graphs.CudaGraph(operation)
        replayed = graph.replay().clone()
        results[name] = {"eager_again": (second - first).abs().max().item(),
                         "graph": (replayed - first).abs().max().item()}  # fmt: skip
        say(f"operation {name}: eager again {results[name]['eager_again']:.3g}, graph {results[name]['graph']:.3g}")
    return results


def weight_bytes(model) -> int:
    """The bytes a decode step must read at least: every parameter once (tied embeddings count once)."""
    storages = {parameter.untyped_storage().data_ptr(): parameter.nbytes for parameter in model.parameters()}
    return sum(storages.values())


def new_tokens_per_second(run, prompt, few: int, many: int) -> float:
    """Decode speed without the prompt's own time: the difference of two runs that differ only in new tokens."""
    run(prompt, few)  # warm-up (and, for the fast path, the graph for this cache length)
    run(prompt, many)
    return (many - few) / (timed(lambda: run(prompt, many)) - timed(lambda: run(prompt, few)))


def text_part(out: Path, smoke: bool, prompts: list[int] | None = None, deterministic: bool = False) -> dict[str, Any]:
    import torch

    sys.path.insert(0, str(SPACES / "text-generation"))
    import cuda_graphs
    import fast_decode

    device = torch.device("cpu" if smoke else "cuda")
    graph = cuda_graphs.EmulatedGraph if smoke else None  # a smoke test replays the graph code path on CPU
    fast_decode.POOL = fast_decode.Pool(graph)
    result: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0) if not smoke else "CPU (smoke test)",
                              "torch": torch.__version__, "deterministic": deterministic, **ceilings(device, smoke)}  # fmt: skip
    if not smoke:
        result["operations"] = operation_checks(device)
    model = text_model(device, smoke, torch.float32 if smoke else torch.bfloat16)
    result["weights_gb"] = weight_bytes(model) / 1e9
    result["limit_tokens_s"] = result["bandwidth_tbs"] * 1e12 / weight_bytes(model)
    say(f"text: {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters, {result['weights_gb']:.2f} GB; "
        f"bandwidth limit {result['limit_tokens_s']:.0f} tokens/s")  # fmt: skip
    vocabulary = model.config.vocab_size
    torch.manual_seed(1)

    def prompt_of(length: int):
        return torch.randint(3, vocabulary, (1, length), device=device)

    def generate(prompt, tokens, **sampling):
        return model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=tokens,
                              min_new_tokens=tokens, **({"do_sample": False} | sampling))  # fmt: skip

    def fast(prompt, tokens, **sampling):
        return fast_decode.generate(model, input_ids=prompt, attention_mask=torch.ones_like(prompt),
                                    max_new_tokens=tokens, min_new_tokens=tokens, **({"do_sample": False} | sampling))  # fmt: skip

    rows = []
    few, many = (2, 6) if smoke else (4, 36)
    fast_few, fast_many = (2, 12) if smoke else (16, 272)
    lengths = SMOKE_PROMPTS if smoke else prompts or PROMPTS
    for length in lengths:
        prompt = prompt_of(length)
        row = {"prompt": length, "generate": new_tokens_per_second(generate, prompt, few, many),
               "fast": new_tokens_per_second(fast, prompt, fast_few, fast_many)}  # fmt: skip
        if length == 512 or length == lengths[-1] and smoke:
            row["fast_sampled"] = new_tokens_per_second(lambda p, n: fast(p, n, do_sample=True, temperature=0.7),
                                                        prompt, fast_few, fast_many)  # fmt: skip
        start = time.perf_counter()
        fast_decode.POOL.clear()
        fast(prompt, 3)  # a cold decoder: the cache, the capture and the two checked steps
        row["first_call_s"] = time.perf_counter() - start
        say(f"text: {length}-token prompt: generate {row['generate']:.1f}, fast {row['fast']:.1f} tokens/s "
            f"({row['fast'] / result['limit_tokens_s']:.1%} of the limit); a cold decoder's call "
            f"{row['first_call_s']:.3f} s")  # fmt: skip
        rows.append(row)
    result["rows"] = rows
    result["equality"] = text_equality(model, prompt_of(512 if not smoke else 24), smoke, fast_decode, cuda_graphs)
    if (
        not smoke and not deterministic
    ):  # float32 against generate itself (no bf16 rounding differences between the two ways)
        fp32 = model.float()
        prompt = prompt_of(256)
        reference, ours = generate(prompt, 96), fast(prompt, 96)
        result["equality"]["float32_generate_tokens"] = _prefix(reference[0, 256:], ours[0, 256:])
        result["equality"]["float32_tokens"] = 96
        say(f"text: float32, 96 new tokens: fast == generate for the first "
            f"{result['equality']['float32_generate_tokens']}")  # fmt: skip
        del fp32
    (out / "text.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _prefix(first, second) -> int:
    """How many leading tokens two answers share."""
    same = (first[: len(second)] == second[: len(first)]).tolist()
    return same.index(False) if False in same else len(same)


def text_equality(model, prompt, smoke: bool, fast_decode, cuda_graphs) -> dict[str, Any]:
    import torch

    new = 40 if smoke else 512
    length = fast_decode.bucket(prompt.shape[1] + new)
    count = prompt.shape[1]
    graph = cuda_graphs.EmulatedGraph if smoke else None

    def answer(graph_choice):
        fast_decode.POOL = fast_decode.Pool(graph_choice)
        return fast_decode.generate(model, input_ids=prompt, attention_mask=torch.ones_like(prompt),
                                    max_new_tokens=new, min_new_tokens=new, do_sample=False)[0, count:]  # fmt: skip

    replayed, eager = answer(graph), answer(False)
    result = {"new_tokens": new, "graph_vs_eager_tokens": _prefix(replayed, eager)}
    # The logits of both, fed the same tokens (the eager answer), step by step.
    decoders = [fast_decode.Decoder(model, length, graph), fast_decode.Decoder(model, length, False)]
    tokens = torch.cat([prompt[0], eager])
    worst, logits = 0.0, []
    for decoder in decoders:
        decoder.ids[0, : tokens.numel()] = tokens
        decoder.prefill(count)
    for position in range(count, count + new - 1):
        graph_logits, eager_logits = (decoder.step(position) for decoder in decoders)
        worst = max(worst, (graph_logits - eager_logits).abs().max().item())
        logits.append(eager_logits.clone())
    result["graph_vs_eager_max_abs_logit"] = worst
    result["graph_kept"] = decoders[0].graph is not None
    result["logits_max_abs"] = max(row.abs().max().item() for row in logits)
    # One step from the same state, as the fast path's own check sees it: eager, then the graph, at the same position.
    checked = fast_decode.Decoder(model, length, graph)
    checked.ids[0, : tokens.numel()] = tokens
    checked.prefill(count)
    checked.step(count)  # the capture
    singles, again = [], []
    for position in range(count + 1, count + 33):
        checked.position.fill_(position)
        eager_logits = checked._step().clone()
        eager_again = checked._step().clone()
        replayed_logits = checked.graph.replay() if checked.graph is not None else eager_logits
        singles.append(cuda_graphs.difference(replayed_logits, eager_logits))
        again.append(cuda_graphs.difference(eager_again, eager_logits))
    result["single_step_graph_vs_eager_relative_max"] = max(singles)
    result["single_step_eager_vs_eager_relative_max"] = max(again)
    # The eager step against transformers' own forward over the same tokens (bf16 on a GPU: rounding differs).
    with torch.no_grad():
        reference = model(tokens[None, : count + new - 1]).logits[0, count:].float()
    ours = torch.cat(logits)
    difference = (ours - reference).abs()
    result["step_vs_transformers_max_abs_logit"] = difference.max().item()
    result["step_vs_transformers_relative"] = (difference.norm() / reference.norm()).item()
    result["step_vs_transformers_same_argmax"] = (ours.argmax(-1) == reference.argmax(-1)).float().mean().item()
    reference_tokens = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=64,
                                      min_new_tokens=64, do_sample=False)[0, count:]  # fmt: skip
    result["generate_vs_fast_tokens"] = _prefix(reference_tokens, replayed[:64])
    result["planted_unsafe"] = planted_unsafe(model, prompt, fast_decode, graph)
    say(f"text: {new} greedy tokens, graph == eager step for the first {result['graph_vs_eager_tokens']}; max |logit "
        f"difference| graph vs eager {worst:.3g} (graph kept: {result['graph_kept']}); eager step vs transformers' "
        f"forward: max {result['step_vs_transformers_max_abs_logit']:.3g}, relative "
        f"{result['step_vs_transformers_relative']:.2e}, same argmax {result['step_vs_transformers_same_argmax']:.1%}; "
        f"bf16 generate == fast for the first {result['generate_vs_fast_tokens']} of 64")  # fmt: skip
    say(f"text: planted capture-unsafe step: {result['planted_unsafe']}")
    say(f"text: one step from the same state, relative difference: graph vs eager at most "
        f"{result['single_step_graph_vs_eager_relative_max']:.3g}, eager vs eager again "
        f"{result['single_step_eager_vs_eager_relative_max']:.3g}; the logits reach {result['logits_max_abs']:.3g}")  # fmt: skip
    return result


def planted_unsafe(model, prompt, fast_decode, graph) -> dict[str, Any]:
    """A decode step that writes the cache at a host-side position: fine eagerly, stale in a graph. The fast path
    must drop its graph at the check and still give the eager answer."""
    import torch

    class HostPositionDecoder(fast_decode.Decoder):
        def step(self, position):
            self.host_position = position
            return super().step(position)

        def _step(self):
            self.position.fill_(self.host_position)  # on the host, so a graph keeps the capture's value
            return super()._step()

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    fast_decode.log.addHandler(Collect())
    original = fast_decode.Decoder
    try:
        fast_decode.Decoder = HostPositionDecoder
        fast_decode.POOL = fast_decode.Pool(graph)
        planted = fast_decode.generate(model, input_ids=prompt, attention_mask=torch.ones_like(prompt),
                                       max_new_tokens=48, min_new_tokens=48, do_sample=False)  # fmt: skip
    finally:
        fast_decode.Decoder = original
        fast_decode.log.handlers.pop()
    fast_decode.POOL = fast_decode.Pool(False)
    eager = fast_decode.generate(model, input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=48,
                                 min_new_tokens=48, do_sample=False)  # fmt: skip
    fast_decode.POOL = fast_decode.Pool(graph)
    return {"caught": any("CaptureError" in message for message in messages), "log": messages,
            "same_tokens_as_eager": _prefix(planted[0], eager[0]) - prompt.shape[1], "of": 48}  # fmt: skip


# --- image -------------------------------------------------------------------------------------------------------


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


def image_part(out: Path, smoke: bool) -> dict[str, Any]:
    import torch
    from diffusers import UNet2DConditionModel
    from torch.utils.flop_counter import FlopCounterMode

    sys.path.insert(0, str(SPACES / "image-generation"))
    import cuda_graphs
    import fast_unet

    device = torch.device("cpu" if smoke else "cuda")
    dtype = torch.float32 if smoke else torch.bfloat16
    graph = cuda_graphs.EmulatedGraph if smoke else None
    result: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0) if not smoke else "CPU (smoke test)",
                              "torch": torch.__version__, **ceilings(device, smoke)}  # fmt: skip
    config = models.scaled(models.SSD_1B_UNET, smoke, block_out_channels=[32, 64, 64], attention_head_dim=[2, 4, 4],
                           transformer_layers_per_block=[1, 1, 1], cross_attention_dim=64, addition_time_embed_dim=8,
                           projection_class_embeddings_input_dim=80, norm_num_groups=8)  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):
        unet = UNet2DConditionModel(**config).to(dtype).eval()
    result["unet_params_b"] = sum(p.numel() for p in unet.parameters()) / 1e9
    say(f"image: UNet {result['unet_params_b']:.3f} B parameters")
    repeats = 3 if smoke else 10
    rows = []
    with torch.no_grad():
        for side in SMOKE_SIDES if smoke else SIDES:
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
    (out / "image.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def whole_images(unet, device, dtype, smoke: bool, fast_unet, graph) -> dict[str, Any]:
    """Whole images (SDXL pipeline around the UNet, random text encoders and VAE), eager against graphs."""
    import numpy as np
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    sys.path.insert(0, str(SPACES / "image-generation" / "tests"))
    import tempfile

    from tiny_model import _load_clip_tokenizer, _write_clip_vocab

    with tempfile.TemporaryDirectory() as vocab_dir:
        _write_clip_vocab(Path(vocab_dir))
        tokenizers = [_load_clip_tokenizer(Path(vocab_dir)) for _ in range(2)]
    text = {"vocab_size": 49408, "max_position_embeddings": 77, "bos_token_id": tokenizers[0].bos_token_id,
            "eos_token_id": tokenizers[0].eos_token_id, "pad_token_id": tokenizers[0].pad_token_id}  # fmt: skip
    tiny = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
            "projection_dim": 32}  # fmt: skip
    vae = models.scaled(models.SDXL_VAE, smoke, block_out_channels=[8, 8, 8, 8], layers_per_block=1, norm_num_groups=4)
    with torch.device(device):
        parts = {
            "vae": AutoencoderKL(**vae),
            "text_encoder": CLIPTextModel(CLIPTextConfig(**text, **models.scaled(models.CLIP_L, smoke, **tiny))),
            "text_encoder_2": CLIPTextModelWithProjection(
                CLIPTextConfig(**text, **models.scaled(models.CLIP_BIG_G, smoke, **tiny))
            ),
        }
    parts = {name: module.to(dtype).eval() for name, module in parts.items()}
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       steps_offset=1, timestep_spacing="leading")  # fmt: skip
    pipe = StableDiffusionXLPipeline(**parts, unet=unet, tokenizer=tokenizers[0], tokenizer_2=tokenizers[1],
                                     scheduler=scheduler, add_watermarker=False)  # fmt: skip
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


# --- the summary ----------------------------------------------------------------------------------------------


def summary(text: dict | None, image: dict | None) -> str:
    lines = ["## The fast paths on a GPU", ""]
    if text:
        lines += [
            (
                f"Text, SmolLM2-1.7B shape ({text['weights_gb']:.2f} GB of bf16 weights, random), batch 1, on "
                f"{text['gpu']} (torch {text['torch']}): copy bandwidth {text['bandwidth_tbs']:.2f} TB/s, so at most "
                f"{text['limit_tokens_s']:.0f} tokens/s."
            ),
            "",
            (
                "| prompt tokens | generate tokens/s | fast tokens/s | limit tokens/s | fast / limit | fast / generate "
                "| a cold decoder's first call |"
            ),
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in text["rows"]:
            lines.append(f"| {row['prompt']} | {row['generate']:.1f} | {row['fast']:.0f} | {text['limit_tokens_s']:.0f} | "
                         f"{row['fast'] / text['limit_tokens_s']:.1%} | {row['fast'] / row['generate']:.0f}x | "
                         f"{row['first_call_s']:.3f} s |")  # fmt: skip
        sampled = [row for row in text["rows"] if "fast_sampled" in row]
        equality = text["equality"]
        lines += ["", *(f"Sampling (temperature 0.7) at a {row['prompt']}-token prompt: {row['fast_sampled']:.0f} "
                        "tokens/s." for row in sampled)]  # fmt: skip
        lines += [
            "",
            (
                f"Equality: greedy, {equality['new_tokens']} new tokens after a 512-token prompt: the graph-replayed step "
                f"gives the eager static-cache step's tokens for the first {equality['graph_vs_eager_tokens']}; fed the "
                f"same tokens, their logits differ by at most {equality['graph_vs_eager_max_abs_logit']:.3g}. The eager "
                f"step against transformers' forward (bf16): max |logit difference| "
                f"{equality['step_vs_transformers_max_abs_logit']:.3g}, relative "
                f"{equality['step_vs_transformers_relative']:.2e}, same argmax at "
                f"{equality['step_vs_transformers_same_argmax']:.1%} of positions; bf16 `generate` and the fast path "
                f"agree on the first {equality['generate_vs_fast_tokens']} of 64 greedy tokens. In float32, the fast path "
                f"gives `generate`'s tokens for the first {equality.get('float32_generate_tokens', '-')} of "
                f"{equality.get('float32_tokens', '-')}. A planted capture-unsafe step (the cache position set on the "
                f"host): caught {equality['planted_unsafe']['caught']} ({'; '.join(equality['planted_unsafe']['log'])})."
            ),
        ]
    if image:
        lines += [
            "",
            (
                f"Image, SSD-1B-shape UNet ({image['unet_params_b']:.3f} B parameters, bf16, random), guidance as batch 2, "
                f"on {image['gpu']}: bf16 matrix rate {image['matmul_tflops']:.0f} TFLOP/s."
            ),
            "",
            (
                "| size | TFLOP per step | eager ms | graph ms | ceiling ms | eager / ceiling | graph / ceiling | "
                "channels_last eager ms | channels_last graph ms | its share |"
            ),
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in image["rows"]:
            ceiling_ms = row["tflop"] / image["matmul_tflops"] * 1e3
            lines.append(f"| {row['side']}x{row['side']} | {row['tflop']:.2f} | {row['eager_ms_contiguous']:.1f} | "
                         f"{row['graph_ms_contiguous']:.1f} | {ceiling_ms:.1f} | {row['eager_share_contiguous']:.1%} | "
                         f"{row['graph_share_contiguous']:.1%} | {row['eager_ms_channels_last']:.1f} | "
                         f"{row['graph_ms_channels_last']:.1f} | {row['graph_share_channels_last']:.1%} |")  # fmt: skip
        images = image["images"]
        lines += ["", "Graph vs eager UNet output, max |difference| per size: " + ", ".join(
            f"{row['side']}: {row['graph_vs_eager_max_abs_contiguous']:.3g}" for row in image["rows"]) + ". "
            f"Whole images, {images['steps']} steps at {images['side']}x{images['side']}: eager "
            f"{images['eager_s']:.2f} s, graphs {images['fast_s']:.2f} s; pixels differ by at most "
            f"{images['max_abs_pixel']}/255 (mean {images['mean_abs_pixel']:.3f}, PSNR {images['psnr_db']:.1f} dB)."]  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-out")))
    parser.add_argument("--only", choices=["text", "image"], action="append", help="run only these parts")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny models: checks the script, not the numbers")
    parser.add_argument("--report", action="store_true", help="only rewrite summary.md from the JSON under --out")
    parser.add_argument("--prompts", type=int, nargs="+", help=f"prompt lengths to time (default: {PROMPTS})")
    parser.add_argument("--deterministic", action="store_true",
                        help="torch.use_deterministic_algorithms (set CUBLAS_WORKSPACE_CONFIG=:4096:8 too)")  # fmt: skip
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    parts = args.only or ["text", "image"]
    if not args.report:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is None or not args.smoke and not torch.cuda.is_available():
            print("No CUDA GPU here: this benchmark needs one (--smoke checks the script on CPU).")
            return 2
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 comparisons in float32
        if args.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        for part in parts:
            try:
                if part == "text":
                    text_part(args.out, args.smoke, args.prompts, args.deterministic)
                else:
                    image_part(args.out, args.smoke)
            except Exception:  # noqa: BLE001 - one part failing must not lose the other's figures
                import traceback

                traceback.print_exc()
                say(f"{part}: FAILED")
    loaded = {name: json.loads((args.out / f"{name}.json").read_text()) if (args.out / f"{name}.json").is_file()
              else None for name in ("text", "image")}  # fmt: skip
    text = summary(loaded["text"], loaded["image"])
    (args.out / "summary.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
