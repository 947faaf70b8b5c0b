"""Measure each kind's default model on a GPU: the durations to ship, the table for docs/durations.md, AoTI timing.

Run on a machine with an NVIDIA GPU through benchmarks/gpu/run.sh, after benchmarks/gpu/prepare_calibrate.sh has rendered
the Spaces into .gpu-spaces/ and fetched the wheels the machine lacks into .gpu-wheels/ (docs/durations.md says how).
For each kind it builds the default model's architecture at its real size with random weights (time does not
depend on the values; kinds/<kind>/full_size_model.py), runs the rendered Space's own `zerogpu.calibrate` on it,
times a few more input sizes (kinds/<kind>/calibrate_on_gpu.py: which, how often, what the rule sheet would
declare), and then, for each kind with AoTI, times its model eager against compiled ahead of time (the same file
says what to export). Everything lands under $OUT:

  summary.md                        the Markdown tables (also printed): input size, actual and declared seconds,
                                    their ratio, and the rule sheet's defaults on the same inputs
  kinds/<kind>/durations.json       the coefficients to ship: copy over kinds/<kind>/durations.json
  <kind>.json                       everything measured, for the record
  <kind>-aoti.json                  eager and compiled seconds per call at the default size

`--smoke` runs the same code on CPU with tiny models (no GPU: only to check the script itself, never for numbers).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kind_parts  # beside this script: each kind's own part, kinds/<kind>/calibrate_on_gpu.py
from kind_parts import SPACES

MARGIN = 1.25


def smoke_patches() -> None:
    """On CPU (--smoke only): let the Space's calibrate run its code paths without CUDA."""
    import torch

    torch.cuda.synchronize = lambda *args, **kwargs: None
    torch.cuda.memory_allocated = lambda *args, **kwargs: 0
    torch.cuda.get_device_name = lambda *args, **kwargs: "CPU smoke test"


# --- the workers: one part, in its own process ------------------------------------------------------------------------


def prepared() -> tuple[list[str], list[str]]:
    """The kinds whose Spaces prepare_calibrate.sh rendered into .gpu-spaces/: each with its defaults, and those with
    AoTI (their kind.yml's `aoti`) once more with aoti on, as <kind>-aoti."""
    folders = kind_parts.rendered_spaces()
    aoti = [name for name in folders if name.endswith("-aoti") and name.removesuffix("-aoti") in folders]
    return [name for name in folders if name not in aoti], aoti


def enter_space(folder: str, smoke: bool):
    """Work in a rendered Space as its own code does (its modules and tests/ importable); returns the device."""
    import torch

    space = SPACES / folder
    sys.path[:0] = [str(space), str(space / "tests")]
    os.chdir(space)
    return torch.device("cpu" if smoke else "cuda")


def prepare_model(models: Path, kind: str, device, smoke: bool) -> float:
    """The kind's random-weight model (kinds/<kind>/full_size_model.py), saved once per run (the AoTI part reuses
    it) and named in MODEL_ID for the app to load, the built copy gone from the GPU; returns billions of params."""
    import torch

    folder = models / kind
    if not (folder / "done").is_file():
        print(f"{kind}: building the default architecture with random weights", flush=True)
        params_b = kind_parts.load(kind, "full_size_model").build(folder, device, smoke)
        (folder / "done").write_text(f"{params_b}\n")
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()  # the built copy is gone: what app.py loads is all that stays on the GPU
    os.environ["MODEL_ID"] = str(folder)
    if smoke:
        smoke_patches()
    return float((folder / "done").read_text())


def app_plan(calibrate, app) -> tuple[str, Any]:
    """The one GPU handler of the kind's app and calibration.py's plan for it."""
    plans = calibrate.load_plans()
    (handler,) = [name for name in plans if callable(getattr(app, name, None))]
    return handler, plans[handler]


def worker(kind: str, out: Path, models: Path, smoke: bool) -> None:
    import torch

    part = kind_parts.load(kind, "calibrate_on_gpu")
    device = enter_space(kind, smoke)
    started = time.perf_counter()
    params_b = prepare_model(models, kind, device, smoke)
    from zerogpu import calibrate

    gpu = "NVIDIA H100 80GB HBM3 (smoke test: the numbers are CPU seconds)" if smoke else calibrate.check_gpu()
    app = calibrate.import_app()
    weights_gb = round(torch.cuda.memory_allocated() / 1e9, 3) if not smoke else 0.0
    print(f"{kind}: {params_b:.2f} B parameters, {weights_gb} GB on {gpu}; built and loaded in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    handler, plan = app_plan(calibrate, app)
    part.widen(app, smoke)
    fit = calibrate.calibrate_handler(plan, app, part.REPEATS)
    fit_sizes = plan.sizes(app)
    extra = calibrate.measure(plan, app, part.SMOKE_EXTRA_SIZES if smoke else part.EXTRA_SIZES, part.REPEATS)
    measured = {
        "gpu": gpu,
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "weights_gb": weights_gb,
        "command": "benchmarks/gpu/run.sh (benchmarks/gpu/calibrate_on_gpu.py)",
        "basis": (
            f"Measured with random weights of the default model's architecture at its real size ({params_b:.2f} B "
            f"parameters; kinds/{kind}/full_size_model.py gives the config) by the Space's own "
            f"`python -m zerogpu.calibrate` code: the slowest of {part.REPEATS} calls per size, after a warm-up."
        ),
    }
    rows = []
    fit_points = list(zip(fit_sizes, (point["seconds"] for point in fit["points"]), strict=True))
    for source, points in (("fit", fit_points), ("check", extra)):
        for size, seconds in points:
            rows.append({"input": plan.label(size), "source": source, "units": plan.amounts(size),
                         "actual_s": round(seconds, 4), "rule_sheet_s": part.rule_sheet_s(size)})  # fmt: skip
    # What was measured, and nothing derived: the report declares from the fit (declare()).
    result = {"kind": kind, "handler": handler, "params_b": params_b, "fit": fit, "measured": measured, "rows": rows,
              "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    (out / f"{kind}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{kind}: done in {result['seconds']} s", flush=True)


def aoti_worker(folder: str, out: Path, models: Path, smoke: bool, steps: int) -> None:
    """Eager against ahead-of-time compiled seconds per image, at the app's default size, in the Space rendered with
    aoti on (<kind>-aoti); the kind's calibrate_on_gpu.py says what to export and where the package runs."""
    import torch

    kind = folder.removesuffix("-aoti")
    part = kind_parts.load(kind, "calibrate_on_gpu")
    device = enter_space(folder, smoke)
    prepare_model(models, kind, device, smoke)
    from zerogpu import calibrate

    app = calibrate.import_app()
    size = part.aoti_size(app, steps, smoke)
    _, plan = app_plan(calibrate, app)
    result: dict[str, Any] = {"kind": kind, "size": plan.label(size), "how": (
        "Timed with torch's own torch.export.export (through the Space's AoTI module's export) and "
        "torch._inductor.aoti_compile_and_package / aoti_load_package: the spaces package is not in ZeroGPU mode "
        "here; on ZeroGPU, spaces.aoti_compile runs the same torch._inductor AOT compilation.")}  # fmt: skip

    def per_call() -> float:
        plan.run(app, size)  # warm-up
        return statistics.median(calibrate.time_call(plan, app, size) for _ in range(2))

    result["eager_s"] = round(per_call(), 3)
    print(f"aoti: eager {result['eager_s']} s per call ({result['size']})", flush=True)
    start = time.perf_counter()
    exported = part.aoti_export(app)
    result["export_s"] = round(time.perf_counter() - start, 1)
    print(f"aoti: exported in {result['export_s']} s", flush=True)
    start = time.perf_counter()
    package = torch._inductor.aoti_compile_and_package(exported, package_path=str(models / f"{kind}.pt2"))
    compiled = torch._inductor.aoti_load_package(package)
    result["compile_s"] = round(time.perf_counter() - start, 1)
    print(f"aoti: compiled in {result['compile_s']} s", flush=True)
    part.aoti_use(app, compiled)
    result["compiled_s"] = round(per_call(), 3)
    result["speedup"] = round(result["eager_s"] / result["compiled_s"], 2)
    print(f"aoti: compiled {result['compiled_s']} s per call, {result['speedup']}x", flush=True)
    (out / f"{folder}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


# --- the report ------------------------------------------------------------------------------------------------------


def markdown(result: dict) -> str:
    """The Markdown section for one kind, from a result that declare() has filled in."""
    from zerogpu import calibrate

    fit, local, large = result["fit"], result["tables"]["local"], result["tables"]["large"]
    handler = result["handler"]
    entry = large["handlers"][handler]
    describe = calibrate.formula
    gpu = describe(fit["gpu"]["overhead_s"], fit["gpu"]["per_unit_s"])
    title = f"#### {result['kind']} ({handler}; {result['params_b']:.2f} B parameters, random weights) on "
    about = (
        f"Fit: {describe(fit['overhead_s'], fit['per_unit_s'])}, of which the GPU is busy {gpu}. Declared here: "
        f"the fit x {local['target']['margin']} margin, in whole seconds rounded up, at least 1 s. Shipped for "
        f"ZeroGPU large: {describe(entry['overhead_s'], entry['per_unit_s'])} (slice factor "
        f"{large['target']['slice_factor']}, grant factor {large['target']['grant_factor']}, cold start "
        f"{large['target']['cold_start_s']} s, floor {entry['floor_s']} s)."
    )
    lines = [
        title + local["measured"]["gpu"],
        "",
        about,
        "",
        "| input | actual s | declared s | declared/actual | rule sheet s | rule sheet/actual | ZeroGPU large declares |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        actual = row["actual_s"]
        label = row["input"] + (" (not in the fit)" if row["source"] == "check" else "")
        lines.append(
            f"| {label} | {actual:.2f} | {row['declared_local_s']} | {row['declared_local_s'] / actual:.2f} | "
            f"{row['rule_sheet_s']} | {row['rule_sheet_s'] / actual:.1f} | {row['declared_large_s']} s |"
        )
    ratios = [(row["declared_local_s"] / row["actual_s"], row) for row in result["rows"]]
    inside = sum(1.0 <= ratio <= 1.5 for ratio, _ in ratios)
    low, high = min(ratio for ratio, _ in ratios), max(ratio for ratio, _ in ratios)
    verdict = f"{inside} of {len(ratios)} ratios in [1.0, 1.5]; lowest {low:.2f}, highest {high:.2f}."
    under = [row["input"] for ratio, row in ratios if ratio < 1.0]
    verdict += f" Below 1.0: {'; '.join(under)}." if under else " None below 1.0."
    # Whole seconds: ZeroGPU takes whole seconds, at least 1, so the declared value is rounded up; where it is 1 s, or
    # where the fit with its margin stays within 1.5 x the actual time, only that takes the ratio past 1.5.
    forced = [row for ratio, row in ratios if ratio > 1.5 and (row["declared_local_s"] == 1
              or row.get("unrounded_local_s", math.inf) <= 1.5 * row["actual_s"])]  # fmt: skip
    if forced:
        verdict += (" Above 1.5 only through whole seconds (1 s is the least a call declares, and the fit with its "
                    f"margin is rounded up): {'; '.join(row['input'] for row in forced)}.")  # fmt: skip
    others = [row["input"] for ratio, row in ratios if ratio > 1.5 and row not in forced]
    if others:
        verdict += f" Above 1.5 otherwise: {'; '.join(others)}."
    lines += ["", verdict]
    return "\n".join(lines)


def aoti_markdown(folder: str, aoti: dict | None, note: str) -> str:
    kind = folder.removesuffix("-aoti")
    if aoti is None:
        return f"### AoTI ({kind})\n\n{note}"
    return "\n".join([
        f"### AoTI ({kind})", "",
        "| per call | seconds |", "| --- | ---: |",
        f"| eager, {aoti['size']} | {aoti['eager_s']:.2f} |",
        f"| compiled ahead of time, {aoti['size']} | {aoti['compiled_s']:.2f} |",
        f"| speed-up | {aoti['speedup']}x |",
        "", f"Export took {aoti['export_s']} s and compilation {aoti['compile_s']} s. {aoti['how']}",
    ])  # fmt: skip


def run_step(args: list[str], timeout: float, log) -> bool:
    if timeout < 30:
        print(f"skipped {' '.join(args)}: the time budget is spent", flush=True)
        return False
    command = [sys.executable, __file__, *args]
    try:
        done = subprocess.run(command, timeout=timeout, check=False, stdout=log, stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired:
        print(f"{' '.join(args)}: stopped after {timeout:.0f} s (time budget)", flush=True)
        return False
    return done.returncode == 0


def main() -> int:
    kinds, aoti = prepared()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-out")))
    parser.add_argument("--budget", type=float, default=460, help="seconds for everything (default: %(default)s)")
    parser.add_argument("--only", action="append", help=f"run only these parts (of {', '.join(kinds + aoti)})")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny models: checks the script, not the numbers")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # one part, in a process of its own
    parser.add_argument("--models", type=Path, help=argparse.SUPPRESS)  # the run's random-weight models
    parser.add_argument("--aoti-steps", type=int, default=25, help="steps per timed AoTI image (default: 25)")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite summary.md (and durations.json) from the JSON under --out")  # fmt: skip
    args = parser.parse_args()
    if args.report:  # every part whose results are under --out, unless --only names some
        return report(args.out, args.only or sorted(path.stem for path in args.out.glob("*.json")))
    parts = args.only or kinds + aoti
    if not kinds:
        print(
            f"{SPACES} lacks the rendered Spaces: run benchmarks/gpu/prepare_calibrate.sh first (here, not on the GPU)."
        )
        return 2
    unknown = sorted(set(parts) - set(kinds + aoti))
    if unknown:
        parser.error(f"no such part: {', '.join(unknown)} (prepared: {', '.join(kinds + aoti)})")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker in aoti:
        aoti_worker(args.worker, args.out, args.models, args.smoke, args.aoti_steps)
        return 0
    if args.worker:
        worker(args.worker, args.out, args.models, args.smoke)
        return 0

    if not args.smoke:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is None or not torch.cuda.is_available():
            print("No CUDA GPU here: this benchmark needs one (--smoke checks the script on CPU).")
            return 2
    deadline = time.monotonic() + args.budget
    smoke = ["--smoke"] if args.smoke else []
    models = Path(tempfile.mkdtemp(prefix="calibrate-on-gpu-"))  # several GB: never under $OUT
    with open(args.out / "workers.log", "a") as log:
        for part in parts:
            extra = ["--aoti-steps", str(args.aoti_steps)] if part in aoti else []
            command = ["--worker", part, "--out", str(args.out), "--models", str(models), *smoke, *extra]
            ok = run_step(command, deadline - time.monotonic(), log)
            print(f"{part}: {'done' if ok else 'FAILED or stopped: see workers.log'}", flush=True)
    return report(args.out, parts)


def declare(result: dict) -> dict:
    """The result with its tables and declared seconds, computed from its fit by calibrate.py as it is now (so that
    `--report` shows a change of margin or factors without timing anything again)."""
    from zerogpu import calibrate, durations

    handler, measured = result["handler"], result["measured"]
    tables = {target: calibrate.build_table({handler: result["fit"]}, measured, target, MARGIN)
              for target in calibrate.TARGETS}  # fmt: skip
    rows = [{**row, **{f"declared_{target}_s": durations.seconds_for(tables[target]["handlers"][handler], row["units"])
                       for target in tables},
             "unrounded_local_s": calibrate.unclamped(tables["local"]["handlers"][handler], row["units"])}
            for row in result["rows"]]  # fmt: skip
    return {**result, "tables": tables, "rows": rows}


def report(out: Path, parts: list[str]) -> int:
    from zerogpu import calibrate  # the repository's package (prepare_calibrate.sh puts its wheel in .gpu-wheels)

    sections = ["## Durations measured on a GPU", ""]
    for part in parts:
        path = out / f"{part}.json"
        result = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        if part.endswith("-aoti"):
            note = "No result: compilation did not finish in the time budget (workers.log)."
            sections += [aoti_markdown(part, result, note), ""]
            continue
        if result is None:
            sections += [f"### {part}\n\nNo result: see workers.log.", ""]
            continue
        result = declare(result)
        tables = {size: result["tables"][size] for size in calibrate.GPU_SIZES}
        (out / "kinds" / part).mkdir(parents=True, exist_ok=True)
        (out / "kinds" / part / "durations.json").write_text(calibrate.dumps(tables), encoding="utf-8")
        sections += [markdown(result), ""]
    text = "\n".join(sections)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
