"""ZeroGPU's platform facts for the template's questions, read from template/zerogpu/platform.py: the one place they
are written, which every Space also carries for its own tooling (the rules, the contract, calibrate)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from jinja2.ext import Extension

PLATFORM_FILE = Path(__file__).resolve().parent.parent / "template" / "zerogpu" / "platform.py"


def load_platform(path: Path = PLATFORM_FILE) -> dict[str, Any]:
    """The facts by name (PYTHONS, TORCH_VERSIONS, GPU_SIZES, ...), as template/zerogpu/platform.py defines them."""
    return {name: value for name, value in runpy.run_path(str(path)).items() if name.isupper()}


class PlatformExtension(Extension):
    """Exposes the facts as the Jinja global `zerogpu` (zerogpu.PYTHONS, zerogpu.GPU_SIZES, ...)."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.globals["zerogpu"] = load_platform()
