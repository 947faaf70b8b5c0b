"""Why the chat's bf16 decode step does not give the same logits twice on a GPU, and under which settings it, and the
CUDA graph replayed from it, give the same tokens: one run.

The chat's fast path (fast_decode.py) checks its graph against the eager static-cache step. On an H200 in bf16 that
eager step, run twice from the same state, moved its logits by up to 1.5% of their norm (docs/durations.md), so
neither can equal the other token for token over a long answer. Each setting below is tried in turn:

- where the step first differs from itself: every operation's output recorded (a TorchDispatchMode) while the eager
  step runs twice at the same position, and the first operation whose output is not bit for bit the same named;
- greedy tokens over a long answer: the eager step against itself, and the graph against the eager step;
- the fast path's tokens per second under the setting, against the bandwidth limit measured in the same run.

Settings: fast_decode's own attention (two matrix products, what the Space runs); PyTorch's SDPA with the backend it
picks (cuDNN's on an H200), and each backend alone, the math one also kept in bf16.

    SCRIPT=kinds/text-generation/decode_determinism_on_gpu.py bash benchmarks/gpu/run.sh   # on the GPU
    python3 kinds/text-generation/decode_determinism_on_gpu.py --smoke --out /tmp/x   # CPU: checks the script only

(run.sh installs the wheels and runs it with .gpu-spaces/ from benchmarks/gpu/prepare_calibrate.sh.) It lives in
the chat kind's folder: it is about that kind's decode step.

Writes determinism.json under --out and prints one line per finding.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "gpu"))
import kind_parts  # the model, the ceilings and the timing, as the fast-path benchmark has them
from gpu_timing import ceilings, say

KIND = kind_parts.kind_of(__file__)
bench = kind_parts.load(KIND, "fast_path_on_gpu")
full_size_model = kind_parts.load(KIND, "full_size_model")

NEW_TOKENS, SMOKE_NEW_TOKENS = 512, 24
PROMPT, SMOKE_PROMPT = 512, 16
POSITIONS = 8  # positions at which the eager step is traced twice


def settings(smoke: bool) -> dict[str, Any]:
    """Each setting's name and a function giving its context manager."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    @contextlib.contextmanager
    def through_sdpa(*backends, bf16_math: bool = False):
        fast_decode = sys.modules["fast_decode"]
        before = fast_decode._attend, torch.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
        fast_decode._attend = attend_by_sdpa
        torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp(bf16_math)
        try:
            with sdpa_kernel(list(backends)) if backends else contextlib.nullcontext():
                yield
        finally:
            fast_decode._attend = before[0]
            torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp(before[1])

    chosen = {"fast_decode's attention (matrix products)": contextlib.nullcontext,
              "SDPA, the backend PyTorch picks": through_sdpa}  # fmt: skip
    backends = [SDPBackend.MATH] if smoke else [SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION,
                                                SDPBackend.CUDNN_ATTENTION]  # fmt: skip
    for backend in backends:
        chosen[f"SDPA, {backend.name.lower()} only"] = lambda backend=backend: through_sdpa(backend)
    if not smoke:
        chosen["SDPA, math only, in bf16"] = lambda: through_sdpa(SDPBackend.MATH, bf16_math=True)
    return chosen


def attend_by_sdpa(query, keys, values, mask, scale):
    """fast_decode._attend through PyTorch's SDPA, which picks its backend (cuDNN's on an H200)."""
    import torch.nn.functional as F

    return F.scaled_dot_product_attention(query, keys, values, attn_mask=mask, scale=scale,
                                          enable_gqa=query.shape[1] != keys.shape[1])  # fmt: skip


def recorded_operations(step) -> list[tuple[str, list]]:
    """Each aten operation `step` runs and copies of its tensor outputs, in order."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class Recorder(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.operations = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            outputs = [leaf.detach().clone() for leaf in tree_leaves(result) if isinstance(leaf, torch.Tensor)]
            self.operations.append((str(func), outputs))
            return result

    with Recorder() as recorder:
        step()
    return recorder.operations


def first_difference(first: list, second: list) -> dict[str, Any] | None:
    """The first operation whose result differs between two recordings of the same step, or None. Only each
    operation's first output is its result: attention kernels also return buffers they leave unwritten."""
    for index, ((name, outputs), (_, others)) in enumerate(zip(first, second, strict=True)):
        for output, other in zip(outputs[:1], others[:1], strict=True):
            if not bool((output == other).all()):
                difference = (output.float() - other.float()).abs().max().item()
                return {"index": index, "operation": name, "of": len(first), "max_abs": difference}
    return None


def self_consistency(model, prompt, fast_decode) -> dict[str, Any]:
    """The eager step run twice at each of POSITIONS positions from the same state: how often its logits are the same
    bit for bit, and where the first difference appears."""
    import torch

    count = prompt.shape[1]
    decoder = fast_decode.Decoder(model, fast_decode.bucket(count + POSITIONS + 1), False)
    decoder.ids[0, :count] = prompt[0]
    decoder.prefill(count)
    same, found = 0, []
    for position in range(count, count + POSITIONS):
        decoder.position.fill_(position)
        first, second = (recorded_operations(decoder._step) for _ in range(2))
        same += bool((first[-1][1][0] == second[-1][1][0]).all())  # the logits, the step's last operation
        where = first_difference(first, second)
        if where is not None:
            found.append(where)
        decoder.ids[0, position + 1] = int(torch.argmax(first[-1][1][0]))
    return {"same_logits": same, "of": POSITIONS, "first_differences": found[:3]}


def tokens(model, prompt, fast_decode, graph, new: int) -> Any:
    import torch

    fast_decode.POOL = fast_decode.Pool(graph)
    return fast_decode.generate(model, input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new,
                                min_new_tokens=new, do_sample=False)[0, prompt.shape[1]:]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-out")))
    parser.add_argument("--smoke", action="store_true", help="CPU, a tiny model: checks the script, not the numbers")
    parser.add_argument("--setting", action="append", help="run only the settings whose names contain this")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import torch

    if not args.smoke and not torch.cuda.is_available():
        print("No CUDA GPU here: this probe needs one (--smoke checks the script on CPU).")
        return 2
    sys.path.insert(0, str(kind_parts.SPACES / KIND))
    import cuda_graphs
    import fast_decode

    device = torch.device("cpu" if args.smoke else "cuda")
    graph = cuda_graphs.EmulatedGraph if args.smoke else None
    model = full_size_model.model(device, torch.float32 if args.smoke else torch.bfloat16, args.smoke)
    limit = ceilings(device, args.smoke)["bandwidth_tbs"] * 1e12 / bench.weight_bytes(model)
    torch.manual_seed(1)
    prompt = torch.randint(3, model.config.vocab_size, (1, SMOKE_PROMPT if args.smoke else PROMPT), device=device)
    new = SMOKE_NEW_TOKENS if args.smoke else NEW_TOKENS
    result: dict[str, Any] = {"gpu": "CPU (smoke test)" if args.smoke else torch.cuda.get_device_name(0),
                              "torch": torch.__version__, "limit_tokens_s": limit, "new_tokens": new, "settings": {}}  # fmt: skip
    say(f"determinism: {result['gpu']}, torch {torch.__version__}; bandwidth limit {limit:.0f} tokens/s")
    chosen = {name: setting for name, setting in settings(args.smoke).items()
              if not args.setting or any(part in name for part in args.setting)}  # fmt: skip
    for name, setting in chosen.items():
        row: dict[str, Any] = {}
        try:
            with setting():
                row["self_consistency"] = self_consistency(model, prompt, fast_decode)
                eager, eager_again = (tokens(model, prompt, fast_decode, False, new) for _ in range(2))
                replayed = tokens(model, prompt, fast_decode, graph, new)
                row["eager_vs_eager_tokens"] = bench._prefix(eager, eager_again)
                row["graph_vs_eager_tokens"] = bench._prefix(replayed, eager)
                fast_decode.POOL = fast_decode.Pool(graph)
                few, many = (2, 8) if args.smoke else (16, 272)
                row["fast_tokens_s"] = bench.new_tokens_per_second(
                    lambda p, n: fast_decode.generate(model, input_ids=p, attention_mask=torch.ones_like(p),
                                                      max_new_tokens=n, min_new_tokens=n, do_sample=False),
                    prompt, few, many)  # fmt: skip
        except Exception as error:  # noqa: BLE001 - a setting this GPU cannot run is reported, the others still run
            row["error"] = f"{type(error).__name__}: {error}"[:300]
        result["settings"][name] = row
        if "error" in row:
            say(f"determinism: {name}: cannot run here: {row['error']}")
            continue
        consistency = row["self_consistency"]
        where = consistency["first_differences"][0] if consistency["first_differences"] else None
        say(f"determinism: {name}: eager step equal to itself at {consistency['same_logits']} of "
                  f"{consistency['of']} positions"
                  + (f" (first difference at operation {where['index']} of {where['of']}, {where['operation']}, "
                     f"max |difference| {where['max_abs']:.3g})" if where else "")
                  + f"; {new} greedy tokens: eager == eager for {row['eager_vs_eager_tokens']}, graph == eager for "
                  f"{row['graph_vs_eager_tokens']}; fast path {row['fast_tokens_s']:.0f} tokens/s "
                  f"({row['fast_tokens_s'] / limit:.1%} of the limit)")  # fmt: skip
    (args.out / "determinism.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
