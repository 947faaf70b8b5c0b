"""ZeroGPU's platform facts, written here and nowhere else: the Pythons and torch releases it runs, its GPU sizes
and what each costs, and the caps a request is checked against. From the facts sheet the template is built on
(hub docs and spaces 0.51.3, checked 2026-12).

Read by the template's questions (copier.yml, through extensions/platform_facts.py), by the rules, the contract,
calibrate and the fake device API. Plain data and the standard library only: the template loads this file by path
when it renders, before any Space exists.
"""

from __future__ import annotations

from typing import NamedTuple

# The Pythons ZeroGPU runs: README.md's python_version (a minor) -> the patch release the Space then gets. The first
# is the template's default.
PYTHONS = {"3.12": "3.12.12", "3.10": "3.10.13"}

# The torch releases ZeroGPU supports, oldest first; the first is the template's default.
TORCH_VERSIONS = ("2.8.0", "2.9.1", "2.10.0", "2.11.0", "2.12.1", "2.13.0")

# The seconds `spaces` requests when a handler gives no duration.
DEFAULT_DURATION = 60

# The whole daily quota of a visitor who is not logged in: a request that counts for more is always refused.
MAX_REQUEST_SECONDS = 120


class Card(NamedTuple):
    """The NVIDIA card ZeroGPU slices, with its datasheet figures."""

    name: str
    bandwidth_tbs: float  # memory bandwidth
    bf16_tflops: float  # dense BF16 tensor throughput


# The card behind ZeroGPU now (hub docs, spaces-zerogpu, 2026-07): 1.6 TB/s of GDDR7 (1597 GB/s, Server Edition
# datasheet) and 4 PFLOPS of sparse FP4, that is about 500 dense BF16 TFLOPS.
CARD = Card("RTX PRO 6000 Blackwell Server Edition", 1.6, 500)


class GpuSize(NamedTuple):
    """A ZeroGPU slice a handler asks for with @spaces.GPU(size=...)."""

    label: str  # the gpu_size question's choice
    description: str  # what calibrate's durations.json names as its target
    share: float  # the part of CARD it runs on (a MIG half: half the SMs and half the memory bandwidth)
    grant_factor: float  # spaces multiplies the declared seconds by this, for the quota check and the abort timer
    quota_factor: int  # the device API counts the granted seconds this many times against the visitor's quota


# The sizes a Space may ask for; the first is the template's default.
GPU_SIZES = {
    "large": GpuSize(
        "large: half a GPU, 1x quota (enough for most demos)",
        f"half an NVIDIA {CARD.name} (ZeroGPU large)",
        0.5,
        1.5,  # spaces' duration_factor on the current backing GPU (Blackwell)
        1,
    ),
    "xlarge": GpuSize(
        "xlarge: a whole GPU, 2x quota (every second counts double against your users' quota)",
        f"a whole NVIDIA {CARD.name} (ZeroGPU xlarge)",
        1.0,
        1.0,
        2,
    ),
}


# The size `spaces` gives a handler that names none; `duration_factor` (a Space's [tool.zerogpu]) scales this one.
SPACES_DEFAULT_SIZE = "large"


def longest_declarable(max_request_seconds: int = MAX_REQUEST_SECONDS) -> int:
    """The most seconds a handler may declare on every size and still be counted within `max_request_seconds`."""
    return int(max_request_seconds // max(size.grant_factor * size.quota_factor for size in GPU_SIZES.values()))
