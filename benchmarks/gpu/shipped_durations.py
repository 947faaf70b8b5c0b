"""The duration coefficients the template ships in kinds/<kind>/durations.json, one table per ZeroGPU size.

    uv run python benchmarks/gpu/shipped_durations.py    # recompute every size's table from the fits they hold

Each table comes from one fit on a real GPU (overhead and per-unit seconds, and the GPU's own seconds), converted
per size by the Space's own zerogpu/calibrate.py, so a shipped file reads exactly like one that
`python -m zerogpu.calibrate` writes. benchmarks/gpu/calibrate_on_gpu.py measures the fits and writes the files
(copy them from its $OUT/kinds/); run this after changing calibrate.py's factors, as a Space runs
`python -m zerogpu.calibrate --refit`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_calibrate(path: Path = ROOT / "template" / "zerogpu" / "calibrate.py") -> ModuleType:
    """The Space's calibrate module, imported from a file (it needs no torch for the arithmetic), with the Space's
    zerogpu package (its platform facts) importable beside it."""
    if str(path.parent.parent) not in sys.path:
        sys.path.insert(0, str(path.parent.parent))
    spec = importlib.util.spec_from_file_location("zerogpu_calibrate", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is being made
    spec.loader.exec_module(module)
    return module


def kind_tables(fits: dict[str, dict[str, Any]], measured: dict[str, Any], calibrate: ModuleType) -> dict:
    """kinds/<kind>/durations.json's content: the Space's durations.json for each GPU size."""
    return {size: calibrate.build_table(fits, measured, size) for size in calibrate.GPU_SIZES}


def write_kind(kind: str, tables: dict, calibrate: ModuleType, kinds_dir: Path = ROOT / "kinds") -> Path:
    path = kinds_dir / kind / "durations.json"
    path.write_text(calibrate.dumps(tables), encoding="utf-8")
    return path


def main() -> int:
    calibrate = load_calibrate()
    for path in sorted((ROOT / "kinds").glob("*/durations.json")):
        tables = json.loads(path.read_text(encoding="utf-8"))
        fits, measured = calibrate.stored_fits(tables["large"]), tables["large"]["measured"]
        write_kind(path.parent.name, kind_tables(fits, measured, calibrate), calibrate)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
