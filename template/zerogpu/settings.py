"""What ZeroGPU checks a request against, and the constants the other modules share. Standard library only, so
that `python -m zerogpu.emulate` can say "no GPU here" before importing anything heavy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_DURATION = 60  # the seconds spaces requests when a handler gives no duration
LOW_LEVEL_CUDA_INIT = (
    "Low-level CUDA init (`torch._C._cuda_init`) reached. This means ZeroGPU's PyTorch CUDA emulation mode did not "
    "intercept a CUDA operation in your code."
)  # spaces.zero.torch.patching: what rebuilding a CUDA tensor in ZeroGPU's main process meets
SAMPLE_TEXT = "a red cube on a table"  # what the tools type into an empty text input


@dataclass(frozen=True)
class Limits:
    """The caps a GPU request is checked against. Defaults from the facts sheet (hub docs, spaces 0.51.3); a Space
    changes them in pyproject.toml's [tool.zerogpu] table, or with the environment variables
    ZEROGPU_MAX_REQUEST_SECONDS and ZEROGPU_DURATION_FACTOR."""

    max_request_seconds: int = 120  # the whole daily quota of a visitor who is not logged in: more is always refused
    duration_factor: float = 1.5  # spaces scales `large` requests by this on the current backing GPU (Blackwell)

    @classmethod
    def of(cls, space_dir: Path | str = ".") -> Limits:
        settings: dict[str, Any] = {}
        pyproject = Path(space_dir) / "pyproject.toml"
        if pyproject.is_file():
            settings = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("zerogpu", {})
        return cls(
            max_request_seconds=int(
                os.environ.get("ZEROGPU_MAX_REQUEST_SECONDS", settings.get("max-request-seconds", 120))
            ),
            duration_factor=float(os.environ.get("ZEROGPU_DURATION_FACTOR", settings.get("duration-factor", 1.5))),
        )

    def charged(self, seconds: int, size: str | None) -> int:
        """The seconds the quota check compares with what the visitor has left (spaces.zero.client.schedule)."""
        if size == "xlarge":
            return seconds * 2
        return round(seconds * self.duration_factor)
