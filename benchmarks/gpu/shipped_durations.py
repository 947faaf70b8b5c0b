"""The duration coefficients the template ships in kinds/<kind>/durations.json, one table per ZeroGPU size.

    uv run python benchmarks/gpu/shipped_durations.py    # recompute every size's table from the fits they hold

Each table comes from one fit on a real GPU (overhead and per-unit seconds, and the GPU's own seconds), converted
per size by the zerogpu package's calibrate (template/zerogpu/, which every Space carries), so a shipped file reads
exactly like one that `python -m zerogpu.calibrate` writes. benchmarks/gpu/calibrate_on_gpu.py measures the fits and writes the files
(copy them from its $OUT/kinds/); run this after changing calibrate.py's factors, as a Space runs
`python -m zerogpu.calibrate --refit`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from zerogpu import calibrate

ROOT = Path(__file__).resolve().parents[2]


def kind_tables(fits: dict[str, dict[str, Any]], measured: dict[str, Any]) -> dict:
    """kinds/<kind>/durations.json's content: the Space's durations.json for each GPU size."""
    return {size: calibrate.build_table(fits, measured, size) for size in calibrate.GPU_SIZES}


def write_kind(kind: str, tables: dict, kinds_dir: Path = ROOT / "kinds") -> Path:
    path = kinds_dir / kind / "durations.json"
    path.write_text(calibrate.dumps(tables), encoding="utf-8")
    return path


def main() -> int:
    for path in sorted((ROOT / "kinds").glob("*/durations.json")):
        tables = json.loads(path.read_text(encoding="utf-8"))
        fits, measured = calibrate.stored_fits(tables["large"]), tables["large"]["measured"]
        write_kind(path.parent.name, kind_tables(fits, measured))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
