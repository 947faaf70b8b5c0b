"""Measure this Space's GPU handlers on a local NVIDIA GPU and write durations.json for ZeroGPU.

    python -m zerogpu.calibrate                     # measure on this machine's GPU, write durations.json
    python -m zerogpu.calibrate --target xlarge     # for a Space that asks for size="xlarge"
    python -m zerogpu.calibrate --refit --margin 1.4  # no GPU: recompute from the measurements already in the file

What it does, per handler (each one calibration.py has a plan for):
1. Times the handler, as app.py defines it, over a spread of input sizes across the range the UI allows, forcing
   the worst case where the model could stop early (`min_new_tokens = max_new_tokens` for text), after one
   untimed warm-up call. Each size is timed `--repeats` times (2) and the slowest counts: the first call at a new
   image size pays set-up costs that later ones do not, and a visitor's first request may be that call.
2. Fits `seconds = overhead + sum(per_unit[unit] * amount of unit)` by non-negative least squares on relative
   error, over the units app.py's estimator passes (new tokens; denoising steps, megapixels of output and steps x
   megapixels); then fits the seconds the GPU itself is busy (torch.profiler) the same way, on a few sizes chosen
   so that every coefficient moves.
3. Converts to the target ZeroGPU slice and writes the declared coefficients: the GPU's seconds slow down by the
   slice factor, the host's (Python, tokenizers, PNG encoding) do not:
   `declared = (fitted + gpu_fitted * (slice_factor - 1)) * margin / grant_factor`, then clamps estimates to
   `floor_s`..`ceiling_s`.
   - slice_factor: how much slower the target slice runs the handler's GPU work than this GPU: the ratio of
     memory bandwidth for work bound by it (decoding a token at batch 1), of dense BF16 tensor throughput for
     work bound by that (a denoising step), the larger of the two for a handler calibrate has no plan for
     (NVIDIA datasheet figures, in GPUS and TARGETS below; each plan's `bound`). Adding the slowed GPU seconds
     to the host's, rather than overlapping them, is the conservative side. Override with --slice-factor.
   - grant_factor: ZeroGPU itself multiplies the seconds a call declares by its size's factor (the spaces
     package's `duration_factor` for `large`; zerogpu/platform.py), for quota checks and the abort timer alike;
     `xlarge` calls get exactly what they declare (but count double against quota). Override with --grant-factor.
   - margin: a stated safety margin on top, 1.25 unless --margin says otherwise.
   - cold start: a call that lands on a fresh ZeroGPU worker first moves the app's weights onto the GPU, inside
     the declared time. calibrate weighs the weights on the GPU after loading app.py and adds their transfer at
     2 GB/s (a conservative disk-to-GPU rate; --load-gbs) to every overhead, margin and grant factor applied.

Without a local GPU it says so, writes nothing and exits with status 2. docs/durations.md in the template repository
explains the numbers; each GPU call logs declared against actual seconds (zerogpu/durations.py), so you can check them on
the Space itself.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zerogpu.platform import CARD, GPU_SIZES, SPACES_DEFAULT_SIZE, longest_declarable

SPACE_DIR = Path(__file__).resolve().parent.parent
DURATIONS_FILE = SPACE_DIR / "durations.json"
DEFAULT_MARGIN = 1.25
# The most a request may declare and still be counted within a day's quota of a visitor who is not logged in, on
# every size (zerogpu/platform.py; tests/test_zerogpu_contract.py checks the estimates against it).
DEFAULT_CEILING_S = longest_declarable()
DEFAULT_LOAD_GBS = 2.0
ABOUT = (
    "ZeroGPU duration estimates for this Space's GPU handlers, read by zerogpu/durations.py: seconds = overhead_s + the sum "
    "over per_unit_s of each unit's cost times the amount asked for, rounded up to whole seconds and clamped to "
    "[floor_s, ceiling_s]. Written by `python -m zerogpu.calibrate`; each handler's `fit` holds the wall-clock "
    "coefficients measured on measured.gpu and, under `gpu`, the GPU's own busy seconds fitted the same way, before "
    "the target's slice factor, margin and grant factor; `points` holds the timings they were fitted to."
)


@dataclass(frozen=True)
class Target:
    """A GPU slice that calls run on: its memory bandwidth, its dense BF16 tensor throughput, and its grant."""

    description: str
    bandwidth_tbs: float
    bf16_tflops: float
    grant_factor: float  # what ZeroGPU multiplies the declared seconds by
    floor_s: int
    ceiling_s: int


# ZeroGPU's slices of its card (zerogpu/platform.py), then the GPU calibrate runs on.
TARGETS = {
    name: Target(
        size.description,
        CARD.bandwidth_tbs * size.share,
        CARD.bf16_tflops * size.share,
        size.grant_factor,
        5,
        DEFAULT_CEILING_S,
    )
    for name, size in GPU_SIZES.items()
} | {
    # Dedicated hardware has no ZeroGPU quota to protect: the ceiling only guards against a runaway estimate.
    "local": Target("the GPU this ran on (no conversion)", 0, 0, 1.0, 1, 3600),
}

# GPUs calibrate may run on, by the name torch reports (the longest matching fragment wins): memory bandwidth in TB/s
# and dense BF16 tensor TFLOPS, from NVIDIA's datasheets. On any other GPU, pass --slice-factor.
GPUS = {
    "H100 80GB HBM3": (3.35, 989),  # H100 SXM5
    "H100 PCIe": (2.0, 756),
    "H100 NVL": (3.9, 835),
    "H200": (4.8, 989),
    "A100-SXM4-80GB": (2.04, 312),
    "A100-SXM4-40GB": (1.56, 312),
    "A100 80GB PCIe": (1.94, 312),
    "A100-PCIE-40GB": (1.56, 312),
    "L40S": (0.864, 362),
    "L4": (0.3, 121),
    "RTX 4090": (1.01, 165),
    CARD.name: (CARD.bandwidth_tbs, CARD.bf16_tflops),
}


class NoGPU(RuntimeError):
    """Calibration needs a local NVIDIA GPU, and there is none usable here."""


# --- the arithmetic (no torch needed) --------------------------------------------------------------------------------


def fit_costs(points: Sequence[dict[str, float]], units: Sequence[str]) -> tuple[float, dict[str, float]]:
    """Overhead and per-unit costs of `seconds = overhead + sum(cost[unit] * point[unit])`, by least squares on
    relative error, with no coefficient below zero.

    Each point (the amount of each unit, and the `seconds` it took) is weighted by 1/seconds^2, so a 2-second call
    counts as much as a 60-second one: what matters is the ratio of declared to actual seconds, at every size.
    Non-negative least squares over a handful of coefficients: the best of the unconstrained fits on every subset
    of them that comes out non-negative (the constrained optimum is one of these).
    """
    import numpy as np

    rows = [point for point in points if point["seconds"] > 0]
    if not rows:
        raise ValueError("no measurements to fit")
    seconds = np.array([point["seconds"] for point in rows], dtype=float)
    design = np.array([[1.0, *(float(point[unit]) for unit in units)] for point in rows]) / seconds[:, None]
    target = np.ones(len(rows))
    best: tuple[float, tuple[int, ...], Any] | None = None
    for count in range(1, len(units) + 2):
        for columns in itertools.combinations(range(len(units) + 1), count):
            solution = np.linalg.lstsq(design[:, columns], target, rcond=None)[0]
            if (solution < 0).any():
                continue
            residual = float(np.sum((design[:, columns] @ solution - target) ** 2))
            if best is None or residual < best[0] - 1e-12:
                best = (residual, columns, solution)
    coefficients = [0.0] * (len(units) + 1)
    for column, value in zip(best[1], best[2], strict=True):
        coefficients[column] = float(value)
    return coefficients[0], dict(zip(units, coefficients[1:], strict=True))


# What bounds a handler's GPU work, and so which ratio slows it down on a smaller slice.
RATIOS = {
    "bandwidth": lambda bandwidth, tflops: bandwidth,  # e.g. decoding at batch 1: every weight read per token
    "compute": lambda bandwidth, tflops: tflops,  # e.g. a denoising step: thousands of FLOPs per byte
    "either": max,  # unknown work: the larger ratio covers both
}


def slice_factor(gpu_name: str, target: str, bound: str = "either") -> float | None:
    """How many times slower the target slice runs GPU work bound by `bound` (the memory bandwidth, the BF16 tensor
    throughput, or either) than `gpu_name`: None if that GPU is unknown."""
    if target == "local":
        return 1.0
    matches = [fragment for fragment in GPUS if fragment.lower() in gpu_name.lower()]
    if not matches:
        return None
    bandwidth, tflops = GPUS[max(matches, key=len)]
    goal = TARGETS[target]
    return round(RATIOS[bound](bandwidth / goal.bandwidth_tbs, tflops / goal.bf16_tflops), 3)


def bound_of(fits: dict[str, dict[str, Any]]) -> str:
    """What bounds these handlers' GPU work, as their fits record it (from their plans): the one bound they share,
    else either."""
    bounds = {fit.get("bound", "either") for fit in fits.values()}
    return bounds.pop() if len(bounds) == 1 else "either"


def declared_coefficients(
    fit: dict[str, Any], factor: float, margin: float, grant_factor: float
) -> tuple[float, dict[str, float]]:
    """The overhead and per-unit seconds to declare, from the fitted ones (see the module docstring)."""
    gpu = fit["gpu"]

    def scale(seconds: float, gpu_seconds: float) -> float:
        return _round(max(seconds + gpu_seconds * (factor - 1), 0.0) * margin / grant_factor)

    overhead = scale(fit["overhead_s"], gpu["overhead_s"])
    return overhead, {unit: scale(cost, gpu["per_unit_s"][unit]) for unit, cost in fit["per_unit_s"].items()}


def _round(value: float) -> float:
    """Four significant figures, rounded up, so that a written file never declares less than computed."""
    if value <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(value)) - 3)
    return round(math.ceil(round(value / step, 6)) * step, 10)


def unclamped(entry: dict[str, Any], units: dict[str, float]) -> float:
    """An entry's seconds for the work asked for, before rounding and clamping."""
    return entry["overhead_s"] + sum(cost * max(float(units[unit]), 0.0) for unit, cost in entry["per_unit_s"].items())


def covering(fit: dict[str, Any], points: Sequence[dict[str, float]]) -> dict[str, Any]:
    """The fit with its overhead raised by the most that any of its points took beyond it, so that it covers every
    timing it was fitted to. Least squares runs through the middle of the timings, and a call that takes longer
    than it declared is stopped: the first call at a new input size pays set-up costs its neighbours do not (0.2 to
    1.7 s for an image edit on an H200), as a visitor's first request at that size does."""
    short = max((point["seconds"] - unclamped(fit, point) for point in points), default=0.0)
    return {**fit, "overhead_s": _round(fit["overhead_s"] + short)} if short > 0 else fit


def formula(overhead: float, per_unit: dict[str, float]) -> str:
    """Coefficients as a reader writes them: `0.5 s + 0.03 s x new_tokens`."""
    return " + ".join([f"{overhead} s", *(f"{cost} s x {unit}" for unit, cost in per_unit.items())])


def build_table(
    fits: dict[str, dict[str, Any]],
    measured: dict[str, Any],
    target: str,
    margin: float = DEFAULT_MARGIN,
    factor: float | None = None,
    grant_factor: float | None = None,
    floor_s: int | None = None,
    ceiling_s: int | None = None,
    load_gbs: float = DEFAULT_LOAD_GBS,
) -> dict[str, Any]:
    """The durations.json content for `target`, from each handler's fit (overhead_s, per_unit_s, gpu, points)."""
    if factor is None:
        factor = slice_factor(measured["gpu"], target, bound_of(fits))
        if factor is None:
            raise ValueError(
                f"calibrate does not know how {measured['gpu']!r} compares with the {target} slice: pass "
                "--slice-factor (how many times slower the target runs this GPU's work; docs/durations.md)"
            )
    goal = TARGETS[target]
    grant = goal.grant_factor if grant_factor is None else grant_factor
    floor = goal.floor_s if floor_s is None else floor_s
    ceiling_s = goal.ceiling_s if ceiling_s is None else ceiling_s
    if margin < 1 or factor <= 0 or grant <= 0 or load_gbs < 0 or not 1 <= floor <= ceiling_s:
        raise ValueError("need margin >= 1, slice and grant factors > 0, load rate >= 0 and 1 <= floor <= ceiling")
    weights_gb = measured.get("weights_gb", 0)
    cold_start = round(weights_gb / load_gbs, 3) if target != "local" and load_gbs > 0 else 0.0
    handlers = {}
    for name, fit in fits.items():
        overhead, per_unit = declared_coefficients(fit, factor, margin, grant)
        handlers[name] = {
            "overhead_s": _round(overhead + cold_start * margin / grant),
            "per_unit_s": per_unit,
            "floor_s": floor,
            "ceiling_s": ceiling_s,
            "fit": {key: fit[key] for key in ("overhead_s", "per_unit_s", "gpu", "bound") if key in fit},
            "points": fit.get("points", []),
        }
    return {
        "about": ABOUT,
        "target": {
            "size": target,
            "gpu": goal.description,
            "slice_factor": factor,
            "grant_factor": grant,
            "margin": margin,
            "cold_start_s": cold_start,
        },
        "measured": measured,
        "handlers": handlers,
    }


def stored_fits(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each handler's fit and points, from a durations table: what build_table takes back."""
    return {name: {**entry["fit"], "points": entry["points"]} for name, entry in table["handlers"].items()}


def dumps(table: dict[str, Any]) -> str:
    """The file's text: the format every writer uses (calibrate, the template's shipped files)."""
    return json.dumps(table, indent=2, ensure_ascii=False) + "\n"


def write(table: dict[str, Any], path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(dumps(table), encoding="utf-8")
    os.replace(temporary, path)


def uncovered(entry: dict[str, Any], margin: float) -> list[tuple[dict[str, float], int]]:
    """Measured points that the fit with the margin, at the measuring GPU's own speed, would not cover."""
    late = []
    for point in entry.get("points", []):
        declared = math.ceil(round(unclamped(entry["fit"], point) * margin, 6))
        if declared < point["seconds"]:
            late.append((point, declared))
    return late


# --- the measurements (need torch, a GPU and app.py) -----------------------------------------------------------------


@dataclass
class Plan:
    """How to call one handler at a given input size, and how much work of each unit that size is."""

    handler: str
    units: tuple[str, ...]  # the amounts app.py's estimator passes to durations.estimate, by name
    sizes: Callable[[Any], list]  # the spread to fit, from the app's limits
    gpu_sizes: Callable[[Any], list]  # where to profile the GPU's own seconds: sizes that move every coefficient
    largest: Callable[[Any], Any]  # the biggest request the UI allows; None where app.py derives it from the file
    amounts: Callable[[Any], dict[str, float]]
    run: Callable[[Any, Any], None]
    label: Callable[[Any], str]
    bound: str  # what bounds the GPU work (a key of RATIOS): which slice ratio applies


def load_plans(space_dir: Path = SPACE_DIR) -> dict[str, Plan]:
    """The Space's plans, by handler: calibration.py's PLANS, a file of the Space's own (declare a plan there for a
    handler you add). None there: no plans."""
    if not (Path(space_dir) / "calibration.py").is_file():
        return {}
    if str(space_dir) not in sys.path:
        sys.path.insert(0, str(space_dir))
    import calibration

    return calibration.PLANS


def check_gpu() -> str:
    """The local GPU's name, or NoGPU saying why calibration cannot run here."""
    if os.environ.get("SPACES_ZERO_GPU", "").lower() in {"1", "t", "true"}:
        raise NoGPU("This is ZeroGPU (SPACES_ZERO_GPU is set): calibrate on a machine with a GPU of its own.")
    try:
        import torch
    except ImportError as error:
        raise NoGPU("torch is not installed here.") from error
    if not torch.cuda.is_available():
        raise NoGPU("No CUDA GPU is available here (torch.cuda.is_available() is False).")
    return torch.cuda.get_device_name(0)


def time_call(plan: Plan, app, size) -> float:
    import torch

    torch.cuda.synchronize()
    start = time.perf_counter()
    plan.run(app, size)
    torch.cuda.synchronize()
    return time.perf_counter() - start


def gpu_busy_seconds(plan: Plan, app, size) -> float | None:
    """Seconds the GPU spent running kernels and copies during one call (the union of their intervals)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as profiler:
        plan.run(app, size)
        torch.cuda.synchronize()
    intervals = sorted(
        (event.time_range.start, event.time_range.end)
        for event in profiler.events()
        if event.device_type == torch.autograd.DeviceType.CUDA and event.time_range.end > event.time_range.start
    )
    if not intervals:
        return None
    busy, (current_start, current_end) = 0.0, intervals[0]
    for start, end in intervals[1:]:
        if start > current_end:
            busy += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    busy += current_end - current_start
    return busy / 1e6  # the profiler's clock is in microseconds


def measure(
    plan: Plan, app, sizes: Iterable, repeats: int = 2, say: Callable[[str], None] = print
) -> list[tuple[Any, float]]:
    """(size, slowest of `repeats` calls) for each size, after one untimed warm-up call at the smallest."""
    sizes = list(sizes)
    plan.run(app, sizes[0])
    results = []
    for size in sizes:
        times = [time_call(plan, app, size) for _ in range(repeats)]
        say(f"  {plan.handler}: {plan.label(size)}: {' '.join(f'{seconds:.3f}' for seconds in times)} s")
        results.append((size, max(times)))
    return results


def fitted(points: Sequence[dict[str, float]], units: Sequence[str]) -> dict[str, Any]:
    """fit_costs' coefficients as a durations.json `fit` holds them: rounded up to four significant figures."""
    overhead, per_unit = fit_costs(points, units)
    return {"overhead_s": _round(overhead), "per_unit_s": {unit: _round(cost) for unit, cost in per_unit.items()}}


def gpu_fit(plan: Plan, app, say: Callable[[str], None] = print) -> dict[str, Any] | None:
    """The GPU's own busy seconds, fitted over the plan's GPU sizes like the wall time: what slows down on a smaller
    slice. If the profiler cannot tell, None: calibrate_handler then takes all of the wall time as GPU time."""
    points = []
    for size in plan.gpu_sizes(app):
        try:
            busy = gpu_busy_seconds(plan, app, size)
        except Exception as error:  # noqa: BLE001 - a profiler that cannot run here must not stop the calibration
            say(f"  {plan.handler}: the profiler failed ({type(error).__name__}: {error}); taking all time as GPU time")
            return None
        if busy is None:
            say(f"  {plan.handler}: the profiler saw no GPU activity; taking all time as GPU time")
            return None
        say(f"  {plan.handler}: {plan.label(size)}: GPU busy {busy:.3f} s")
        points.append({**plan.amounts(size), "seconds": round(busy, 4)})
    return {**fitted(points, plan.units), "points": points}


def calibrate_handler(plan: Plan, app, repeats: int = 2, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure one handler and fit it: the fit (with its points) that build_table takes."""
    timed = measure(plan, app, plan.sizes(app), repeats, say)
    points = [{**plan.amounts(size), "seconds": round(seconds, 4)} for size, seconds in timed]
    wall = covering(fitted(points, plan.units), points)
    return {**wall, "gpu": gpu_fit(plan, app, say) or {**wall, "points": []}, "bound": plan.bound, "points": points}


def import_app():
    """The Space's app.py, imported from the Space's folder (the model loads onto the local GPU)."""
    if str(SPACE_DIR) not in sys.path:
        sys.path.insert(0, str(SPACE_DIR))
    from zerogpu import durations

    durations.log.setLevel("WARNING")  # one line per call is for the Space's logs, not for this table
    import app

    return app


# --- the command -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m zerogpu.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=list(TARGETS), help="the slice to declare for (default: the file's)")
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN, help="safety margin (default: %(default)s)")
    parser.add_argument("--slice-factor", type=float, help="target time / this GPU's time for GPU-bound work")
    parser.add_argument("--grant-factor", type=float, help="what ZeroGPU multiplies declared seconds by")
    parser.add_argument("--floor", type=int, help="the fewest seconds to declare (default: 5 on ZeroGPU, 1 local)")
    parser.add_argument("--ceiling", type=int, help=f"the most (default: {DEFAULT_CEILING_S} on ZeroGPU, 3600 local)")
    parser.add_argument(
        "--load-gbs",
        type=float,
        default=DEFAULT_LOAD_GBS,
        help="GB/s moving weights to a fresh "
        "worker's GPU, for the cold-start allowance; 0 leaves it out (default: %(default)s)",
    )
    parser.add_argument("--handler", action="append", help="calibrate only this handler (repeatable)")
    parser.add_argument("--repeats", type=int, default=2, help="calls per size; the slowest counts (default: 2)")
    parser.add_argument("--output", type=Path, default=DURATIONS_FILE, help="where to write (default: durations.json)")
    parser.add_argument("--refit", action="store_true", help="no GPU: recompute from the fits already in the file")
    parser.add_argument("--dry-run", action="store_true", help="print the result, write nothing")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    current = json.loads(DURATIONS_FILE.read_text(encoding="utf-8")) if DURATIONS_FILE.is_file() else None
    target = args.target or (current["target"]["size"] if current else SPACES_DEFAULT_SIZE)
    factor, grant = args.slice_factor, args.grant_factor
    largest: dict[str, tuple[str, dict[str, float]]] = {}
    if args.refit:
        if current is None:
            print(f"{DURATIONS_FILE} does not exist: nothing to refit.", file=sys.stderr)
            return 1
        fits = stored_fits(current)
        measured = current["measured"]
        if current["target"]["size"] == target:  # same slice, same measurements: keep the factors unless overridden
            factor = current["target"]["slice_factor"] if factor is None else factor
            grant = current["target"]["grant_factor"] if grant is None else grant
    else:
        try:
            gpu = check_gpu()
        except NoGPU as error:
            print(f"calibrate: {error}\nIt times the handlers on a local NVIDIA GPU; nothing was written. On a machine "
                  "without one, `--refit` recomputes durations.json from the measurements it already holds.",
                  file=sys.stderr)  # fmt: skip
            return 2
        import torch

        print(f"calibrate: timing the handlers on {gpu} (torch {torch.__version__})")
        app = import_app()
        weights_gb = round(torch.cuda.memory_allocated() / 1e9, 3)  # what a fresh ZeroGPU worker moves first
        plans = load_plans()
        names = args.handler or [name for name in plans if callable(getattr(app, name, None))]
        unknown = [name for name in names if name not in plans]
        if unknown or not names:
            print(f"calibrate: no plan for {', '.join(unknown) or 'any handler'} in calibration.py (it has "
                  f"{', '.join(plans) or 'none'}): add one there, as its other plans are written", file=sys.stderr)  # fmt: skip
            return 1
        fits = {name: calibrate_handler(plans[name], app, args.repeats) for name in names}
        largest = {name: (plans[name].label(size), plans[name].amounts(size))
                   for name in names for size in [plans[name].largest(app)] if size is not None}  # fmt: skip
        if current:  # handlers not measured this time keep their entries
            fits = {**stored_fits(current), **fits}
        measured = {
            "gpu": gpu,
            "torch": torch.__version__,
            "date": datetime.date.today().isoformat(),
            "weights_gb": weights_gb,
            "command": "python -m zerogpu.calibrate " + " ".join(sys.argv[1:] if argv is None else argv),
        }
    try:
        table = build_table(fits, measured, target, args.margin, factor, grant, args.floor, args.ceiling,
                            args.load_gbs)  # fmt: skip
    except ValueError as error:
        print(f"calibrate: {error}", file=sys.stderr)
        return 1
    print(summary(table, largest))
    if args.dry_run:
        print(dumps(table), end="")
        return 0
    write(table, args.output)
    print(f"calibrate: wrote {args.output}")
    return 0


def summary(table: dict[str, Any], largest: dict[str, tuple[str, dict[str, float]]] | None = None) -> str:
    """What was written, in a few lines, with a warning for each measured size the margin does not cover and for a
    largest request that the ceiling would cut short (`largest`: handler -> label and amounts)."""
    goal = table["target"]
    heading = f"For {goal['gpu']}: slice factor {goal['slice_factor']}, grant factor {goal['grant_factor']}, "
    lines = [heading + f"margin {goal['margin']}, cold start {goal['cold_start_s']} s"]
    for name, entry in table["handlers"].items():
        fit = entry["fit"]
        lines.append(f"  {name}: {formula(entry['overhead_s'], entry['per_unit_s'])}, clamped to {entry['floor_s']}.."
                     f"{entry['ceiling_s']} s (measured: {formula(fit['overhead_s'], fit['per_unit_s'])})")  # fmt: skip
        for point, declared in uncovered(entry, goal["margin"]):
            work = ", ".join(f"{unit} {amount}" for unit, amount in point.items() if unit != "seconds")
            lines.append(f"    warning: at {work} the fit at this GPU's speed declares {declared} s, but it took "
                         f"{point['seconds']} s: consider a larger --margin")  # fmt: skip
        if name in (largest or {}):
            label, amounts = largest[name]
            needed = unclamped(entry, amounts)
            if needed > entry["ceiling_s"]:
                lines.append(f"    warning: the largest request the UI allows ({label}) needs {needed:.0f} s, over the "
                             f"{entry['ceiling_s']} s ceiling: ZeroGPU would stop it at {entry['ceiling_s']} s. Lower "
                             "the limit in app.py, or raise --ceiling (docs/durations.md says what that costs).")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
