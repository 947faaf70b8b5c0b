"""The image app's denoiser at hardware speed: `apply(pipe.unet)` makes the UNet replay a CUDA graph per input size.

A diffusion step is one UNet call of several hundred kernels. Below 1024x1024 the GPU finishes each kernel before
Python has launched the next (an SSD-1B step at 512x512 used 5% of an H200's matrix rate eagerly), so a visitor's
ZeroGPU quota paid for the host. Here the UNet's forward is captured once per input shape (batch, with or without
guidance, and latent size) as a CUDA graph and replayed for every step at that shape: one launch per step. It is not
compilation (ZeroGPU does not support torch.compile): the same kernels run, checked on the first two calls at each
shape (cuda_graphs.py: the host decides the same at both, and the graph's output is the eager one); a graph that
fails a check is dropped and that shape runs eagerly.

Safety: the UNet's forward takes the latents, the timestep (a device tensor from the scheduler) and the prompt's
embeddings as tensors, and decides nothing on the host from their values, so it is capture-safe as it is; the Space's
tests prove it on CPU with cuda_graphs.EmulatedGraph. Each graph copies its inputs into buffers it owns and returns a
copy of its output, under a lock: requests in threads of one process (off ZeroGPU) may share a graph, never its
buffers. Calls the graphs do not cover (ControlNet residuals, attention masks, LoRA scales, another stream, CPU)
run the eager forward. Where ZeroGPU runs the call, graphs are captured in the call's worker and kept for its later
calls only while the weights stay where they were.

This module is owned by the template: `copier update` keeps it current.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from diffusers.models.unets.unet_2d_condition import UNet2DConditionOutput
from torch.utils._pytree import tree_flatten, tree_unflatten

import cuda_graphs

log = logging.getLogger("fast_unet")
if not log.handlers:  # one plain line on stdout, which is what the Space's logs show
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

# The forward's arguments a graph takes as inputs; any other argument that is given makes the call eager.
GRAPH_INPUTS = ("sample", "timestep", "encoder_hidden_states", "timestep_cond", "added_cond_kwargs")


def apply(unet: torch.nn.Module, graph=None) -> GraphedForward:
    """Replace `unet.forward` (as spaces.aoti_apply does) with one that replays CUDA graphs on a GPU."""
    graphed = GraphedForward(unet, unet.forward, graph)
    unet.forward = graphed
    return graphed


@dataclass
class Entry:
    """One input shape's graph: the buffers its inputs are copied into, and how many checks against eager are left."""

    graph: Any = None
    inputs: list[torch.Tensor] = field(default_factory=list)
    decided: list[tuple] = field(default_factory=list)  # what the host decided at capture
    checks_left: int = 2
    lock: threading.Lock = field(default_factory=threading.Lock)


class GraphedForward:
    """The UNet's forward, replaying one CUDA graph per input shape where it can, and the eager forward elsewhere."""

    def __init__(self, unet: torch.nn.Module, eager: Callable, graph=None):
        self.unet, self.eager, self.graph_class = unet, eager, graph
        self.lock = threading.Lock()
        self.entries: dict[tuple, Entry | None] = {}  # None: this shape runs eagerly
        self.fingerprint = None
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """No graph crosses a fork (ZeroGPU's worker starts with none), and no lock stays held."""
        self.lock, self.entries, self.fingerprint = threading.Lock(), {}, None

    def __call__(self, sample, timestep, encoder_hidden_states, return_dict: bool = True, **others):
        given = {"sample": sample, "timestep": timestep, "encoder_hidden_states": encoder_hidden_states, **others}
        inputs = {name: given[name] for name in GRAPH_INPUTS if given.get(name) is not None}
        leaves, spec = tree_flatten(inputs)
        if not self._graphable(given, leaves, sample):
            return self.eager(return_dict=return_dict, **given)
        key = (spec, tuple((tuple(leaf.shape), leaf.dtype, leaf.device) for leaf in leaves))
        output = self._run(key, leaves, spec)
        return UNet2DConditionOutput(sample=output) if return_dict else (output,)

    def _graphable(self, given: dict, leaves: list, sample: torch.Tensor) -> bool:
        others = [name for name, value in given.items() if name not in GRAPH_INPUTS and value is not None]
        cuda = self.graph_class is not None or (
            sample.device.type == "cuda" and torch.cuda.current_stream() == torch.cuda.default_stream()
        )  # one stream for all threads: the order of their copies and replays is the order they were queued
        tensors = all(isinstance(leaf, torch.Tensor) and leaf.device == sample.device for leaf in leaves)
        return cuda and tensors and not others and not torch.is_grad_enabled()

    def _run(self, key: tuple, leaves: list[torch.Tensor], spec) -> torch.Tensor:
        with self.lock:
            fingerprint = cuda_graphs.fingerprint(self.unet.parameters())
            if fingerprint != self.fingerprint:  # the weights moved, or this is a new process: no old graph is valid
                self.entries, self.fingerprint = {}, fingerprint
            if key not in self.entries:
                self.entries[key] = Entry()
            entry = self.entries[key]
        if entry is None:
            return self._eager(leaves, spec)
        with entry.lock:
            if not entry.checks_left:
                return self._replay(entry, leaves)
            try:  # the forward eagerly on the graph's own inputs, recording its host decisions; on the first call the
                # capture, then both checks
                if entry.graph is None:
                    entry.inputs = [leaf.clone() for leaf in leaves]
                self._copy_in(entry, leaves)
                eager, decided = cuda_graphs.decisions(lambda: self._eager(entry.inputs, spec))
                if entry.graph is None:
                    entry.decided = decided
                    entry.graph = (self.graph_class or cuda_graphs.CudaGraph)(lambda: self._eager(entry.inputs, spec))
                elif why := cuda_graphs.differ(entry.decided, decided):
                    raise cuda_graphs.CaptureError(why)
                replayed = self._replay(entry, leaves)
                if not cuda_graphs.matches(replayed, eager):
                    off = cuda_graphs.difference(replayed, eager)
                    raise cuda_graphs.CaptureError(
                        f"the graph's output differs from the eager one by {off:.3g} of its norm"
                    )
            except Exception as error:  # noqa: BLE001 - a shape that cannot be captured safely still runs eagerly
                self._drop(key, f"{type(error).__name__}: {error}")
                return self._eager(leaves, spec)
            entry.checks_left -= 1
            return eager

    def _eager(self, leaves: list[torch.Tensor], spec) -> torch.Tensor:
        return self.eager(**tree_unflatten(leaves, spec), return_dict=False)[0]

    def _copy_in(self, entry: Entry, leaves: list[torch.Tensor]) -> None:
        for buffer, leaf in zip(entry.inputs, leaves, strict=True):
            buffer.copy_(leaf)

    def _replay(self, entry: Entry, leaves: list[torch.Tensor]) -> torch.Tensor:
        self._copy_in(entry, leaves)
        return entry.graph.replay().clone()  # the graph overwrites its output on the next replay

    def _drop(self, key: tuple, why: str) -> None:
        log.info(f"fast_unet: {why}; the UNet runs eagerly at {tuple(key[1][0][0])}")
        with self.lock:
            self.entries[key] = None
