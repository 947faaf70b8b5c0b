"""Fast decoding for the chat app: `generate(model, ...)` is `model.generate(...)`, with a decode step that runs at
hardware speed on a GPU and the same tokens.

At batch 1, transformers' `model.generate` launches about a thousand small kernels per token from Python, and the
GPU waits for the host: on an H200 it ran SmolLM2-1.7B at 1 to 4% of what the memory bandwidth allows, and a visitor's
ZeroGPU quota paid for the waiting. Here transformers still prepares everything (generation config, logits
processors and warpers, stopping criteria, streamer: `custom_generate`), and only the loop is replaced:

- a static KV cache of a fixed length (the prompt and the most new tokens asked for, rounded up to `BUCKET` tokens);
- a decode step written for CUDA graphs over the model's own weights: every input is a tensor that stays in place
  (the token ids, the position, the cache), the attention mask and the rotary position are computed on the GPU
  from the position, and nothing is read back to the host (cuda_graphs.py says why each matters);
- on a GPU that step is captured once per cache length as a CUDA graph and replayed per token (no torch.compile,
  which ZeroGPU does not support), once its first two steps pass cuda_graphs.py's checks (the host decides the same
  at both positions, and the graph's logits are the eager step's); a graph that fails is dropped and the step runs
  eagerly. On CPU the same step runs eagerly;
- the next token is chosen by transformers' own processors and `torch.argmax` / `torch.multinomial`, exactly as
  `generate` chooses it, and the host reads it one step late, so the GPU already runs the next step meanwhile.

Capturing transformers' own forward instead is not safe: its mask code decides on the host, at capture, what every
replay attends to (measured on an H200: logits off by 1.4 from the first step), and its eager attention copies a host
scalar during capture. The step below calls the model's projections and MLP weights itself.

Where ZeroGPU runs the call, the graph is captured in the call's worker (a process forked from one that never
touched CUDA), and kept for the next call only in that same process while the weights stay where they were. Off
ZeroGPU, requests run in threads of one process: each request takes a decoder (cache, buffers, graph) of its own
from a pool and gives it back, zeroed before reuse, so no two requests share a buffer.

Architectures: Llama, Mistral, Qwen2 and Qwen3 (SmolLM2 is a Llama), with full attention over the request's length;
anything else (or a generation feature the loop does not do, such as beams or returned scores) runs transformers'
own loop unchanged. This module is owned by the template: `copier update` keeps it current.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import sys
import threading
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from transformers import GenerationMixin

import cuda_graphs

SUPPORTED = {"llama", "mistral", "qwen2", "qwen3"}
BUCKET = 256  # cache lengths are multiples of this: one graph per length, and never far more cache than needed
IDLE_DECODERS = 2  # decoders kept for reuse per process; more requests at once get fresh ones

log = logging.getLogger("fast_decode")
if not log.handlers:  # one plain line on stdout, which is what the Space's logs show
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def generate(model, streamer=None, **kwargs) -> torch.Tensor:
    """`model.generate(**kwargs, streamer=streamer)`, decoding with the fast loop below where it applies.

    `streamer` is bound to the loop here: transformers (5.17 to 5.22) drops it from the arguments of a callable
    `custom_generate`, while it still puts the prompt into it itself."""
    loop = functools.partial(decode, streamer=streamer)
    return model.generate(**kwargs, streamer=streamer, custom_generate=loop, disable_compile=True)


def unsupported(model, generation_config, input_ids: torch.Tensor, model_kwargs: dict) -> str | None:
    """Why the fast loop cannot decode this request exactly as transformers' own loop would, or None."""
    config = model.config
    if config.model_type not in SUPPORTED:
        return f"the {config.model_type!r} architecture"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"the {config.hidden_act!r} activation"
    rope_type = getattr(model.model.rotary_emb, "rope_type", "default")
    if "dynamic" in rope_type or "longrope" in rope_type:
        return f"{rope_type!r} rotary embeddings (they change with the length)"
    window = getattr(config, "sliding_window", None)
    if window is not None and window < generation_config.max_length:
        return f"sliding-window attention over {window} tokens"
    if input_ids.shape[0] != 1:
        return "a batch of several prompts"
    if generation_config.num_beams > 1 or generation_config.return_dict_in_generate:
        return "beam search or returned scores"
    if generation_config.prompt_lookup_num_tokens:
        return "prompt lookup decoding"
    mask = model_kwargs.get("attention_mask")
    if mask is not None and not bool(mask.all()):
        return "a padded prompt"
    extra = set(model_kwargs) - {"attention_mask", "use_cache", "past_key_values", "logits_to_keep", "position_ids"}
    if extra:
        return f"model inputs {sorted(extra)}"
    return None


def decode(
    model, input_ids, logits_processor, stopping_criteria, generation_config, synced_gpus=False, streamer=None,
    **model_kwargs,
) -> torch.Tensor:  # fmt: skip
    """The decoding loop for `model.generate(custom_generate=...)`: transformers' `_sample`, token for token, with the
    static-cache step above. Returns the prompt and the new tokens, as `generate` does."""
    reason = "decoding on several GPUs at once" if synced_gpus else unsupported(model, generation_config, input_ids,
                                                                                 model_kwargs)  # fmt: skip
    if reason:
        log.info(f"fast_decode: {reason} is not handled, so transformers' own decoding loop runs")
        return GenerationMixin._sample(model, input_ids, logits_processor, stopping_criteria, generation_config,
                                       synced_gpus=synced_gpus, streamer=streamer, **model_kwargs)  # fmt: skip
    prompt, total = input_ids.shape[1], generation_config.max_length
    if total <= prompt:
        return input_ids
    with POOL.decoder(model, bucket(total)) as decoder:
        ids = decoder.ids
        ids[:, :prompt] = input_ids
        logits = decoder.prefill(prompt)
        reader = TokenReader(ids.device)
        position = prompt
        for position in range(prompt, total):
            scores = logits_processor(ids[:, :position], logits)
            if generation_config.do_sample:
                token = torch.multinomial(F.softmax(scores, dim=-1), num_samples=1).squeeze(1)
            else:
                token = torch.argmax(scores, dim=-1)
            ids[:, position] = token
            reader.send(token, stopping_criteria(ids[:, : position + 1], None))
            if position + 1 < total:
                logits = decoder.step(position)  # queued now: the GPU runs it while the host reads the token
            value, finished = reader.receive()
            if streamer is not None:
                streamer.put(torch.tensor([value]))
            if finished:
                break
        output = ids[:, : position + 1].clone()
    if streamer is not None:
        streamer.end()
    return output


def bucket(length: int) -> int:
    """The cache length for a request of `length` tokens in all: a multiple of BUCKET."""
    return max(BUCKET, math.ceil(length / BUCKET) * BUCKET)


class TokenReader:
    """Each new token and whether to stop, read on the host without stalling the GPU: on CUDA, copied into pinned
    memory behind the step that produced them, and waited for only after the next step is queued."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.host = torch.zeros(2, dtype=torch.long, pin_memory=self.cuda)
        self.ready = torch.cuda.Event() if self.cuda else None

    def send(self, token: torch.Tensor, finished: torch.Tensor) -> None:
        packed = torch.stack([token.view(()), finished.view(()).long()])
        self.host.copy_(packed, non_blocking=self.cuda)
        if self.ready is not None:
            self.ready.record()

    def receive(self) -> tuple[int, bool]:
        if self.ready is not None:
            self.ready.synchronize()
        token, finished = self.host.tolist()
        return token, bool(finished)


class Decoder:
    """One request's static KV cache of `length` positions, its token ids, and its decode step.

    `prefill(n)` runs the prompt in `ids[:, :n]` and returns the next token's logits; `step(position)` runs the token
    the caller wrote at `ids[:, position]` and returns the logits after it. On CUDA, the first `step` captures the
    decode step as a CUDA graph (cuda_graphs.py), checked on its first two positions: the host decides the same at
    both, and the graph's logits are the eager step's.
    `graph` picks how the step is replayed: None for a CUDA graph on CUDA and eager elsewhere, False for eager
    everywhere, or a class such as cuda_graphs.EmulatedGraph (tests)."""

    def __init__(self, model, length: int, graph=None):
        self.model, self.length = model, length
        config, weight = model.config, model.lm_head.weight
        self.layers = list(model.model.layers)
        attention = self.layers[0].self_attn
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = attention.head_dim
        device, dtype = weight.device, weight.dtype
        shape = (1, self.kv_heads, length, self.head_dim)
        self.cache = [(torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype))
                      for _ in self.layers]  # fmt: skip
        self.ids = torch.zeros(1, length, dtype=torch.long, device=device)
        self.position = torch.zeros(1, dtype=torch.long, device=device)
        self.key_positions = torch.arange(length, device=device)
        self.open_mask = torch.zeros(1, 1, 1, length, device=device, dtype=dtype)
        self.swap_halves = _rotate_half_matrix(self.head_dim, device, dtype)
        if graph is None:  # a CUDA graph on CUDA, eager elsewhere
            graph = cuda_graphs.CudaGraph if device.type == "cuda" else False
        self.graph_class = graph or None
        self.graph, self.decided = None, []  # the graph, and what the host decided when it was captured
        self.checks_left = 2  # steps still to be checked before the graph is trusted
        self.fingerprint = cuda_graphs.fingerprint(model.parameters())

    def reusable(self) -> bool:
        """Whether a later request may take this decoder: the same process, and the weights where they were."""
        return self.fingerprint == cuda_graphs.fingerprint(self.model.parameters())

    def reset(self) -> None:
        """Forget the last request: no visitor's cache or ids reach the next one."""
        for keys, values in self.cache:
            keys.zero_()
            values.zero_()
        self.ids.zero_()

    # --- the model, as the step computes it ---------------------------------------------------------------------

    def _norm(self, norm: torch.nn.Module, hidden: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(hidden, (hidden.shape[-1],), norm.weight, norm.variance_epsilon)

    def _heads(self, attention, projection: str, hidden: torch.Tensor, heads: int) -> torch.Tensor:
        """A projection split into heads, [..., heads, head_dim], with Qwen3's per-head norm where the model has one."""
        states = getattr(attention, f"{projection}_proj")(hidden).unflatten(-1, (heads, self.head_dim))
        norm = getattr(attention, f"{projection}_norm", None)
        return states if norm is None else self._norm(norm, states)

    def _mlp(self, layer, hidden: torch.Tensor) -> torch.Tensor:
        mlp = layer.mlp
        return F.silu(mlp.gate_proj(hidden)) * mlp.up_proj(hidden)

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """The next token's logits, in float32 as generate takes them, from the last position's hidden state."""
        return self.model.lm_head(self._norm(self.model.model.norm, hidden)).float().view(1, -1)

    @torch.no_grad()
    def prefill(self, count: int) -> torch.Tensor:
        """Run the first `count` ids through the model, filling the cache; the logits after the last one."""
        model = self.model.model
        positions = self.key_positions[:count]
        hidden = model.embed_tokens(self.ids[:, :count])
        cos, sin = (part.unsqueeze(1) for part in model.rotary_emb(hidden, positions[None]))
        for layer, (keys, values) in zip(self.layers, self.cache, strict=True):
            attention = layer.self_attn
            normed = self._norm(layer.input_layernorm, hidden)
            query = self._heads(attention, "q", normed, self.heads).transpose(1, 2)
            key = self._heads(attention, "k", normed, self.kv_heads).transpose(1, 2)
            query, key = query * cos + _rotate_half(query) * sin, key * cos + _rotate_half(key) * sin
            keys[:, :, :count] = key
            values[:, :, :count] = (
                attention.v_proj(normed).unflatten(-1, (self.kv_heads, self.head_dim)).transpose(1, 2)
            )
            attended = F.scaled_dot_product_attention(query, key, values[:, :, :count], is_causal=True,
                                                      scale=attention.scaling, enable_gqa=self.heads != self.kv_heads)  # fmt: skip
            hidden = hidden + attention.o_proj(attended.transpose(1, 2).flatten(2))
            hidden = hidden + layer.mlp.down_proj(self._mlp(layer, self._norm(layer.post_attention_layernorm, hidden)))
        return self._logits(hidden[:, -1])

    @torch.no_grad()
    def _step(self) -> torch.Tensor:
        """One decode step, safe to capture: it reads the token at `self.position` from `self.ids`, writes its key and
        value there in the cache, and returns the logits after it. Every input is a tensor that stays in place, and
        everything that depends on the position is computed from it on the device."""
        model = self.model.model
        hidden = model.embed_tokens(self.ids.index_select(1, self.position)).view(1, -1)
        cos, sin = (part.view(1, -1) for part in model.rotary_emb(hidden, self.position.view(1, 1)))
        rotation = torch.diag_embed(cos[0]) + self.swap_halves * sin  # x @ rotation == x * cos + rotate_half(x) * sin
        mask = self.open_mask.masked_fill(self.key_positions > self.position, float("-inf"))
        for layer, (keys, values) in zip(self.layers, self.cache, strict=True):
            attention = layer.self_attn
            normed = self._norm(layer.input_layernorm, hidden)
            query = (self._heads(attention, "q", normed, self.heads) @ rotation).view(1, self.heads, 1, self.head_dim)
            key = (self._heads(attention, "k", normed, self.kv_heads) @ rotation).view(1, self.kv_heads, 1, -1)
            keys.index_copy_(2, self.position, key)
            values.index_copy_(2, self.position, attention.v_proj(normed).view(1, self.kv_heads, 1, -1))
            attended = _attend(query, keys, values, mask, attention.scaling)
            hidden = _add_linear(hidden, attended.view(1, -1), attention.o_proj)
            normed = self._norm(layer.post_attention_layernorm, hidden)
            hidden = _add_linear(hidden, self._mlp(layer, normed), layer.mlp.down_proj)
        return self._logits(hidden)

    def step(self, position: int) -> torch.Tensor:
        """The logits after the token at `ids[:, position]`, that token's key and value now in the cache."""
        self.position.fill_(position)
        if self.graph_class is None:  # on CPU, or after a graph was dropped
            return self._step()
        if not self.checks_left:
            return self.graph.replay()
        try:  # the step eagerly, recording its host decisions; on the first call the capture, then both checks
            eager, decided = cuda_graphs.decisions(self._step)
            if self.graph is None:
                self.decided, self.graph = decided, self.graph_class(self._step)
            elif why := cuda_graphs.differ(self.decided, decided):
                raise cuda_graphs.CaptureError(why)
            replayed = self.graph.replay()
            if not cuda_graphs.matches(replayed, eager):
                off = cuda_graphs.difference(replayed, eager)
                raise cuda_graphs.CaptureError(
                    f"the graph's logits differ from the eager step's by {off:.3g} of their norm"
                )
        except Exception as error:  # noqa: BLE001 - a step that cannot be captured safely still runs eagerly
            log.info(f"fast_decode: {type(error).__name__}: {error}; decoding eagerly (cache of {self.length})")
            self.graph, self.graph_class, self.checks_left = None, None, 0
            return self.prefill(position + 1)  # a replay may have written wrong keys: recompute them all
        self.checks_left -= 1
        return eager


def _attend(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, scale: float):
    """One query position's attention over the whole cache, the positions after it masked out, as two matrix
    products: the query's heads grouped by the key-value head they share, scores by a batched product, softmax in
    float32, the values weighed by a second product.

    Not through PyTorch's SDPA: on an H200 it picks cuDNN's attention, which does not give the same output twice for
    the same inputs (eager against eager, 6 of 512 greedy tokens the same in bf16), so no graph could be shown to
    equal it. These products do (512 of 512, graph and eager alike), at 363 tokens/s against SDPA's 454, 30% of the
    bandwidth limit (kinds/text-generation/decode_determinism_on_gpu.py, docs/durations.md)."""
    batch, heads, _, dim = query.shape
    kv_heads = keys.shape[1]
    grouped = query.view(batch, kv_heads, heads // kv_heads, dim)
    scores = torch.matmul(grouped, keys.transpose(-1, -2)).float() * scale + mask
    weights = scores.softmax(-1).to(values.dtype)
    return torch.matmul(weights, values).view(batch, heads, 1, dim)


def _rotate_half(states: torch.Tensor) -> torch.Tensor:
    first, second = states.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def _rotate_half_matrix(size: int, device, dtype) -> torch.Tensor:
    """The matrix M with x @ M == rotate_half(x) (transformers' rotary convention: halves, not pairs)."""
    return _rotate_half(torch.eye(size, device=device, dtype=dtype))


def _add_linear(hidden: torch.Tensor, inputs: torch.Tensor, linear: torch.nn.Linear) -> torch.Tensor:
    """hidden + linear(inputs), the addition done by the matrix multiply itself (one kernel instead of two)."""
    hidden = hidden.addmm_(inputs, linear.weight.t())
    return hidden if linear.bias is None else hidden.add_(linear.bias)


class Pool:
    """Decoders kept for reuse in this process, by model and cache length. A request takes one for itself and gives
    it back; one that is no longer safe to reuse (the weights moved, or another process) is dropped."""

    def __init__(self, graph=None):
        self.graph = graph  # as Decoder takes it
        self.lock = threading.Lock()
        self.idle: list[tuple[tuple[int, int], Decoder]] = []

    @contextlib.contextmanager
    def decoder(self, model, length: int) -> Iterator[Decoder]:
        key = (id(model), length)
        with self.lock:
            found = next((index for index, (held, _) in enumerate(self.idle) if held == key), None)
            decoder = self.idle.pop(found)[1] if found is not None else None
        if decoder is not None and decoder.reusable():
            decoder.reset()
        else:
            decoder = Decoder(model, length, self.graph)
        try:
            yield decoder
        finally:
            with self.lock:
                self.idle.append((key, decoder))
                del self.idle[:-IDLE_DECODERS]

    def clear(self) -> None:
        with self.lock:
            self.idle.clear()


POOL = Pool()
# A forked process (ZeroGPU's worker) starts with no decoders: graphs and CUDA memory do not cross a fork, and a lock
# held by another thread at the fork would stay held.
os.register_at_fork(after_in_child=lambda: POOL.__init__(POOL.graph))
