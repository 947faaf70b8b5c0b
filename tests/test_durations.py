"""The duration coefficients each kind ships: one table per GPU size, in calibrate's own format and arithmetic, with
an entry for every handler the kind's app.py estimates, and estimates that the ceiling never cuts short."""

import json
import re
import subprocess
import sys

import pytest
from conftest import TEMPLATE_DIR
from zerogpu import calibrate, durations

from extensions.kinds import kind_durations, load_kinds

KINDS = load_kinds(TEMPLATE_DIR / "kinds")
GPU_DIR = TEMPLATE_DIR / "benchmarks" / "gpu"


def gpu_part(kind: str, name: str):
    """A kind's part of a GPU benchmark, loaded as the benchmark loads it (benchmarks/gpu/kind_parts.py)."""
    if str(GPU_DIR) not in sys.path:
        sys.path.insert(0, str(GPU_DIR))  # as the benchmarks run: their helpers importable by the kinds' parts
    import kind_parts

    return kind_parts.load(kind, name)


def shipped(kind: str) -> dict:
    return json.loads((TEMPLATE_DIR / "kinds" / kind / "durations.json").read_text(encoding="utf-8"))


def estimated_handlers(kind: str) -> set[str]:
    app = (TEMPLATE_DIR / "kinds" / kind / "app.py.jinja").read_text(encoding="utf-8")
    return set(re.findall(r'durations\.estimate\("(\w+)"', app))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_ships_a_table_per_size_for_every_handler(kind):
    tables = shipped(kind)
    assert set(tables) == set(calibrate.GPU_SIZES)
    for size, table in tables.items():
        assert table["target"]["size"] == size
        assert set(table["handlers"]) == estimated_handlers(kind) != set()
        assert table["measured"]["gpu"] and ("basis" in table["measured"] or "command" in table["measured"]), (
            "say where the coefficients come from"
        )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_shipped_tables_are_what_calibrate_computes_from_their_fits(kind):
    """Nobody edits a declared coefficient by hand: the shipped numbers follow from the fit and the stated factors."""
    for size, table in shipped(kind).items():
        assert calibrate.build_table(calibrate.stored_fits(table), table["measured"], size) == table


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_largest_request_the_ui_allows_fits_under_the_ceiling(kind):
    for size, table in shipped(kind).items():
        for name, entry in table["handlers"].items():
            largest = KINDS[kind]["largest_request"][name]
            assert calibrate.unclamped(entry, largest) < entry["ceiling_s"], (
                f"{name} on {size}: the ceiling would cut the largest request short"
            )
            nothing = dict.fromkeys(entry["per_unit_s"], 0)
            assert durations.seconds_for(entry, nothing) >= entry["floor_s"] >= 1


def test_the_shipped_coefficients_were_measured_on_a_gpu():
    """Not derived from public figures: each table holds the timings it was fitted to, on a named GPU."""
    for kind in sorted(KINDS):
        for table in shipped(kind).values():
            assert "provisional" not in table["measured"]["gpu"] and table["measured"]["gpu"].startswith("NVIDIA ")
            for entry in table["handlers"].values():
                assert len(entry["points"]) >= 4 and len(entry["fit"]["gpu"]["points"]) >= 2


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_durations_renders_one_size_and_refuses_others(kind):
    for size in calibrate.GPU_SIZES:
        assert kind_durations(kind, size, TEMPLATE_DIR / "kinds") == calibrate.dumps(shipped(kind)[size])
    with pytest.raises(ValueError, match="medium"):
        kind_durations(kind, "medium", TEMPLATE_DIR / "kinds")


def test_the_gpu_benchmark_refuses_to_run_without_a_gpu(tmp_path):
    run = subprocess.run(
        [sys.executable, "benchmarks/gpu/calibrate_on_gpu.py", "--out", str(tmp_path)],
        cwd=TEMPLATE_DIR, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    assert "prepare_calibrate.sh" in run.stdout or "No CUDA GPU" in run.stdout
    assert not list(tmp_path.iterdir())


def test_the_fast_path_benchmark_refuses_to_run_without_a_gpu(tmp_path):
    run = subprocess.run(
        [sys.executable, "benchmarks/gpu/fast_paths_on_gpu.py", "--out", str(tmp_path)],
        cwd=TEMPLATE_DIR, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    assert "prepare_calibrate.sh" in run.stdout or "No CUDA GPU" in run.stdout
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("kind", sorted(kind for kind, meta in KINDS.items() if meta["fast_path"]))
def test_each_kinds_fast_path_summary_reports_its_speed_as_a_share_of_the_ceiling(kind):
    from benchmarks.gpu import fast_paths_on_gpu as benchmark

    part = gpu_part(kind, "fast_path_on_gpu")
    summary = benchmark.summary({kind: part.SUMMARY_EXAMPLE, "a-kind-that-failed": None})
    assert summary.startswith("## The fast paths on a GPU\n\n") and part.SUMMARY_LINE in summary
    assert summary.endswith("\n\na-kind-that-failed: no result.")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_says_what_the_gpu_calibration_times(kind):
    part = gpu_part(kind, "calibrate_on_gpu")
    assert part.REPEATS >= 2, "the slowest of at least two calls per size"
    for size in part.EXTRA_SIZES + part.SMOKE_EXTRA_SIZES:
        seconds = part.rule_sheet_s(size)
        assert isinstance(seconds, int) and seconds >= 1, (size, seconds)
    aoti = ("aoti_size", "aoti_export", "aoti_use")
    assert all(hasattr(part, name) for name in aoti) == bool(KINDS[kind].get("aoti")), "AoTI kinds say what to export"


def test_the_gpu_benchmark_tables_show_ratios_and_the_rule_sheet():
    from benchmarks.gpu import calibrate_on_gpu as benchmark

    fit = {"overhead_s": 0.5, "per_unit_s": {"step_megapixels": 0.03}, "bound": "compute",
           "gpu": {"overhead_s": 0.25, "per_unit_s": {"step_megapixels": 0.027}, "points": []},
           "points": [{"step_megapixels": 1.0, "seconds": 0.5}, {"step_megapixels": 52.4, "seconds": 2.1}]}  # fmt: skip
    measured = {"gpu": "NVIDIA H100 80GB HBM3", "weights_gb": 4.4}
    units = {"step_megapixels": 52.4}
    raw = {"kind": "an-image-kind", "handler": "generate", "params_b": 2.2, "fit": fit, "measured": measured,
           "rows": [{"input": "50 steps, 1024x1024", "source": "fit", "units": units, "actual_s": 2.1,
                     "rule_sheet_s": 175}]}  # fmt: skip
    # The report declares from the fit, with calibrate.py as it is now, for every target.
    result = benchmark.declare(raw)
    for target in calibrate.TARGETS:
        expected = calibrate.build_table({"generate": fit}, measured, target)
        assert result["tables"][target] == expected
        assert result["rows"][0][f"declared_{target}_s"] == durations.seconds_for(
            expected["handlers"]["generate"], units
        )
    table = benchmark.markdown(result)
    assert "| input | actual s | declared s | declared/actual | rule sheet s |" in table
    assert "| 50 steps, 1024x1024 | 2.10 | 3 | 1.43 | 175 | 83.3 |" in table
    assert "1 of 1 ratios in [1.0, 1.5]" in table and "None below 1.0." in table
    assert "Fit: 0.5 s + 0.03 s x step_megapixels, of which the GPU is busy 0.25 s + 0.027 s x step_megapixels" in table
