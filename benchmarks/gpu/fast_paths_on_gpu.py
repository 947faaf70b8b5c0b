"""The fast paths on a GPU: speed against the hardware's ceilings, and equality with eager, in one run.

    python benchmarks/gpu/fast_paths_on_gpu.py --out "$OUT"            # on a machine with an NVIDIA GPU
    python benchmarks/gpu/fast_paths_on_gpu.py --smoke --out /tmp/fp   # CPU, tiny models: checks the script only

For each kind whose Space benchmarks/gpu/prepare_calibrate.sh rendered into .gpu-spaces/, its own part,
kinds/<kind>/fast_path_on_gpu.py, imports that Space's fast-path module and builds the kind's default architecture
at its real size with random weights (speed does not depend on the values; kinds/<kind>/full_size_model.py). In the
same process this script first measures the two ceilings every speed is reported against: the memory bandwidth (a
2 GiB device-to-device copy, bytes read plus written) and the bf16 matrix rate (an 8192^3 product). Each kind's
docstring says what its part measures.

Under --out: <kind>.json, summary.md (the tables, also printed), run.log (through run.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kind_parts  # beside this script: each kind's own part, kinds/<kind>/fast_path_on_gpu.py
from gpu_timing import ceilings, say
from kind_parts import SPACES


def prepared() -> list[str]:
    """The kinds with a fast-path part whose Spaces (with their defaults, the fast path on) are in .gpu-spaces/."""
    return [
        name for name in kind_parts.rendered_spaces() if (kind_parts.KINDS_DIR / name / "fast_path_on_gpu.py").is_file()
    ]


def summary(results: dict[str, dict | None]) -> str:
    """Every kind's section, in the order given; a kind without a result says so."""
    lines = ["## The fast paths on a GPU"]
    for kind, result in results.items():
        section = kind_parts.load(kind, "fast_path_on_gpu").summary(result) if result else f"{kind}: no result."
        lines += ["", section]
    return "\n".join(lines)


def main() -> int:
    kinds = prepared()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-out")))
    parser.add_argument("--only", action="append", help=f"run only these kinds (of {', '.join(kinds) or 'none'})")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny models: checks the script, not the numbers")
    parser.add_argument("--report", action="store_true", help="only rewrite summary.md from the JSON under --out")
    parser.add_argument("--sizes", type=int, nargs="+",
                        help="input sizes to time, in the kind's own terms (prompt tokens, image sides): with --only")  # fmt: skip
    parser.add_argument("--deterministic", action="store_true",
                        help="torch.use_deterministic_algorithms (set CUBLAS_WORKSPACE_CONFIG=:4096:8 too)")  # fmt: skip
    args = parser.parse_args()
    parts = args.only or (sorted(path.stem for path in args.out.glob("*.json")) if args.report else kinds)
    if not parts and not args.report:
        print(
            f"{SPACES} lacks the rendered Spaces: run benchmarks/gpu/prepare_calibrate.sh first (here, not on the GPU)."
        )
        return 2
    unknown = sorted(set(parts) - set(kinds))
    if unknown and not args.report:
        parser.error(f"no prepared kind {', '.join(unknown)}: run benchmarks/gpu/prepare_calibrate.sh (prepared: "
                     f"{', '.join(kinds) or 'none'})")  # fmt: skip
    if args.sizes and len(parts) != 1:
        parser.error("--sizes are one kind's input sizes: name that kind with --only")
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is None or not args.smoke and not torch.cuda.is_available():
            print("No CUDA GPU here: this benchmark needs one (--smoke checks the script on CPU).")
            return 2
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 comparisons in float32
        if args.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        limits = ceilings(torch.device("cpu" if args.smoke else "cuda"), args.smoke)
        for kind in parts:
            try:
                result = kind_parts.load(kind, "fast_path_on_gpu").measure(SPACES / kind, limits, args.smoke,
                                                                           args.sizes, args.deterministic)  # fmt: skip
                (args.out / f"{kind}.json").write_text(json.dumps(result, indent=2) + "\n")
            except Exception:  # noqa: BLE001 - one kind failing must not lose the others' figures
                import traceback

                traceback.print_exc()
                say(f"{kind}: FAILED")
    results = {kind: json.loads((args.out / f"{kind}.json").read_text()) if (args.out / f"{kind}.json").is_file()
               else None for kind in parts}  # fmt: skip
    text = summary(results)
    (args.out / "summary.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
