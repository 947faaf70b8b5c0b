"""What ZeroGPU checks a request against, and the constants the other modules share. Standard library only, so
that `python -m zerogpu.emulate` can say "no GPU here" before importing anything heavy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zerogpu.platform import GPU_SIZES, MAX_REQUEST_SECONDS, SPACES_DEFAULT_SIZE, GpuSize

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

LOW_LEVEL_CUDA_INIT = (
    "Low-level CUDA init (`torch._C._cuda_init`) reached. This means ZeroGPU's PyTorch CUDA emulation mode did not "
    "intercept a CUDA operation in your code."
)  # spaces.zero.torch.patching: what rebuilding a CUDA tensor in ZeroGPU's main process meets
SAMPLE_TEXT = "a red cube on a table"  # what the tools type into an empty text input


@dataclass(frozen=True)
class Limits:
    """The caps a GPU request is checked against. Defaults from zerogpu/platform.py; a Space changes them in
    pyproject.toml's [tool.zerogpu] table, or with the environment variables ZEROGPU_MAX_REQUEST_SECONDS and
    ZEROGPU_DURATION_FACTOR."""

    max_request_seconds: int = MAX_REQUEST_SECONDS
    duration_factor: float = GPU_SIZES[SPACES_DEFAULT_SIZE].grant_factor  # what spaces scales default-size requests by

    @classmethod
    def of(cls, space_dir: Path | str = ".") -> Limits:
        settings: dict[str, Any] = {}
        pyproject = Path(space_dir) / "pyproject.toml"
        if pyproject.is_file():
            settings = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("zerogpu", {})
        seconds = os.environ.get("ZEROGPU_MAX_REQUEST_SECONDS", settings.get("max-request-seconds"))
        factor = os.environ.get("ZEROGPU_DURATION_FACTOR", settings.get("duration-factor"))
        return cls(
            max_request_seconds=cls.max_request_seconds if seconds is None else int(seconds),
            duration_factor=cls.duration_factor if factor is None else float(factor),
        )

    def grant_factor(self, size: str | None) -> float:
        """What spaces multiplies the seconds a request of this size declares by (`large`: duration_factor)."""
        return self.duration_factor if gpu_size(size) is GPU_SIZES[SPACES_DEFAULT_SIZE] else gpu_size(size).grant_factor

    def charged(self, seconds: int, size: str | None) -> int:
        """The seconds the quota check compares with what the visitor has left (spaces.zero.client.schedule)."""
        return round(seconds * self.grant_factor(size)) * gpu_size(size).quota_factor


def gpu_size(size: str | None) -> GpuSize:
    """The slice a request asks for: spaces' default size unless it names another."""
    return GPU_SIZES.get(size or SPACES_DEFAULT_SIZE, GPU_SIZES[SPACES_DEFAULT_SIZE])
