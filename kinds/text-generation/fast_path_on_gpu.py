"""The chat's fast path on a GPU, for benchmarks/gpu/fast_paths_on_gpu.py (which loads this file by path and passes
the ceilings it measured): new tokens per second of transformers' `generate` and of `fast_decode.generate` at
several prompt lengths, against the bandwidth limit (the weights' bytes read once per token); greedy tokens of the
graph-replayed step against the eager static-cache step over a long answer, and their logits; the eager step's
logits against transformers' forward; the same greedy answer in float32 against `generate`; and a planted
capture-unsafe step, which the fast path must catch. The model is full_size_model.py's SmolLM2-1.7B shape. Never
rendered into a Space.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import kind_parts  # benchmarks/gpu/, on the path of the script that loads this file
from gpu_timing import say, timed

full_size_model = kind_parts.load(kind_parts.kind_of(__file__), "full_size_model")

PROMPTS = [128, 512, 2048, 4000]  # prompt tokens; the app accepts up to 4096
SMOKE_PROMPTS = [16, 40]
# The summary's check (tests/test_durations.py): a made-up result, and a line of the table it must give.
SUMMARY_EXAMPLE = {
    "weights_gb": 3.42, "gpu": "GPU", "torch": "2.11", "bandwidth_tbs": 4.0, "limit_tokens_s": 1000.0,
    "rows": [{"prompt": 512, "generate": 50.0, "fast": 400.0, "first_call_s": 0.2}],
    "equality": {"new_tokens": 512, "graph_vs_eager_tokens": 512, "graph_vs_eager_max_abs_logit": 0.0,
                 "step_vs_transformers_max_abs_logit": 0.1, "step_vs_transformers_relative": 0.01,
                 "step_vs_transformers_same_argmax": 0.99, "generate_vs_fast_tokens": 64,
                 "planted_unsafe": {"caught": True, "log": ["caught it"]}},
}  # fmt: skip
SUMMARY_LINE = "| 512 | 50.0 | 400 | 1000 | 40.0% | 8x | 0.200 s |"  # 400/1000 of the limit, 400/50 of generate


def operation_checks(device) -> dict[str, dict[str, float]]:
    """Each kind of operation in the decode step, alone, at the default model's shapes: how far a second eager call
    and a CUDA graph's replay are from a first eager call on the same inputs (max |difference|)."""
    import torch
    import torch.nn.functional as F

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


def measure(space: Path, ceilings: dict, smoke: bool, sizes: list[int] | None, deterministic: bool) -> dict[str, Any]:
    """Everything above, in the rendered Space `space` (its own fast_decode.py and cuda_graphs.py); `sizes`: the
    prompt lengths to time (default PROMPTS)."""
    import torch

    sys.path.insert(0, str(space))
    import cuda_graphs
    import fast_decode

    device = torch.device("cpu" if smoke else "cuda")
    graph = cuda_graphs.EmulatedGraph if smoke else None  # a smoke test replays the graph code path on CPU
    fast_decode.POOL = fast_decode.Pool(graph)
    result: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0) if not smoke else "CPU (smoke test)",
                              "torch": torch.__version__, "deterministic": deterministic, **ceilings}  # fmt: skip
    if not smoke:
        result["operations"] = operation_checks(device)
    model = full_size_model.model(device, torch.float32 if smoke else torch.bfloat16, smoke)
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
    lengths = SMOKE_PROMPTS if smoke else sizes or PROMPTS
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


def summary(result: dict) -> str:
    """The Markdown section: every speed as a share of the bandwidth limit measured in the same run."""
    lines = [
        (
            f"Text, SmolLM2-1.7B shape ({result['weights_gb']:.2f} GB of bf16 weights, random), batch 1, on "
            f"{result['gpu']} (torch {result['torch']}): copy bandwidth {result['bandwidth_tbs']:.2f} TB/s, so at most "
            f"{result['limit_tokens_s']:.0f} tokens/s."
        ),
        "",
        (
            "| prompt tokens | generate tokens/s | fast tokens/s | limit tokens/s | fast / limit | fast / generate "
            "| a cold decoder's first call |"
        ),
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['prompt']} | {row['generate']:.1f} | {row['fast']:.0f} | {result['limit_tokens_s']:.0f} | "
                     f"{row['fast'] / result['limit_tokens_s']:.1%} | {row['fast'] / row['generate']:.0f}x | "
                     f"{row['first_call_s']:.3f} s |")  # fmt: skip
    sampled = [row for row in result["rows"] if "fast_sampled" in row]
    equality = result["equality"]
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
    return "\n".join(lines)
