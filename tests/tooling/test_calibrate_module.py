"""zerogpu.calibrate's arithmetic, on CPU: the fit, the slice factor, the declared coefficients, the table and its
file, the summary's warnings. (Its command runs in a Space: tests/tooling/in_space/test_calibrate_command.py.)"""

import json
import math

import pytest
from zerogpu import calibrate, durations

# A handler priced per step: wall seconds 1 + 0.1 x steps, of which the GPU is busy 0.5 + 0.05 x steps.
FIT = {
    "overhead_s": 1.0,
    "per_unit_s": {"steps": 0.1},
    "gpu": {"overhead_s": 0.5, "per_unit_s": {"steps": 0.05}},
    "points": [{"steps": 1, "seconds": 1.1}, {"steps": 50, "seconds": 6.0}],
}


def test_estimates_are_whole_seconds_within_floor_and_ceiling(tmp_path):
    table = calibrate.build_table({"work": FIT}, {"gpu": "NVIDIA H100 80GB HBM3", "weights_gb": 3.0}, "large")
    path = tmp_path / "durations.json"
    calibrate.write(table, path)
    entry = durations.load(path)["handlers"]["work"]
    for steps in (0, 1e-9, 0.5, 1, 7.3, 50, 1e3, 1e9, -5):
        seconds = durations.seconds_for(entry, {"steps": steps})
        assert isinstance(seconds, int) and entry["floor_s"] <= seconds <= entry["ceiling_s"], (steps, seconds)
    assert durations.seconds_for(entry, {"steps": 1e9}) == entry["ceiling_s"]
    assert durations.seconds_for(entry, {"steps": 0}) == max(entry["floor_s"], math.ceil(entry["overhead_s"]))


def points(function, sizes) -> list[dict]:
    return [{**size, "seconds": function(**size)} for size in sizes]


def test_the_fit_recovers_overhead_and_cost_per_unit():
    measured = points(lambda new_tokens: 0.8 + 0.03 * new_tokens, [{"new_tokens": n} for n in (1, 64, 256, 512, 1024)])
    overhead, per_unit = calibrate.fit_costs(measured, ["new_tokens"])
    assert overhead == pytest.approx(0.8) and per_unit == {"new_tokens": pytest.approx(0.03)}


def test_the_fit_separates_several_units():
    """Images: a cost per step (the host launching the UNet), per megapixel (VAE, PNG) and per step x megapixel."""
    sizes = [
        {"steps": s, "megapixels": m, "step_megapixels": s * m} for s in (1, 10, 25, 50) for m in (0.07, 0.4, 1.05)
    ]
    measured = points(lambda steps, megapixels, step_megapixels: 0.2 + 0.04 * steps + 0.7 * megapixels
                      + 0.02 * step_megapixels, sizes)  # fmt: skip
    overhead, per_unit = calibrate.fit_costs(measured, ["steps", "megapixels", "step_megapixels"])
    assert overhead == pytest.approx(0.2)
    assert per_unit == pytest.approx({"steps": 0.04, "megapixels": 0.7, "step_megapixels": 0.02})


def test_the_fit_weighs_relative_error_and_never_goes_negative():
    noisy = [
        {"n": 1, "seconds": 0.5},
        {"n": 10, "seconds": 1.6},
        {"n": 100, "seconds": 9.0},
        {"n": 1000, "seconds": 110.0},
    ]
    overhead, per_unit = calibrate.fit_costs(noisy, ["n"])
    assert overhead >= 0 and per_unit["n"] > 0
    assert max(abs(overhead + per_unit["n"] * p["n"] - p["seconds"]) / p["seconds"] for p in noisy) < 0.25
    falling = [{"n": 1, "seconds": 5.0}, {"n": 10, "seconds": 4.0}, {"n": 100, "seconds": 3.0}]
    overhead, per_unit = calibrate.fit_costs(falling, ["n"])
    assert per_unit == {"n": 0.0} and 3.0 < overhead < 5.0  # falling with size: all overhead
    # Time that does not grow with one of two units: that unit costs nothing, rather than something negative.
    flat = points(lambda a, b: 1.0 + 0.5 * a, [{"a": a, "b": b} for a in (1, 5, 9) for b in (1, 5, 9)])
    overhead, per_unit = calibrate.fit_costs(flat, ["a", "b"])
    assert per_unit == {"a": pytest.approx(0.5), "b": 0.0} and overhead == pytest.approx(1.0)
    with pytest.raises(ValueError):
        calibrate.fit_costs([], ["n"])


def test_the_covering_fit_declares_at_least_every_timing_it_was_fitted_to():
    """A first call at a new size that paid 0.8 s of set-up: least squares passes under it, the covering fit does
    not, and it moves the overhead only (the costs per unit stay the least-squares ones)."""
    points = [{"steps": steps, "seconds": 0.05 + 0.03 * steps} for steps in (1, 5, 20, 50)]
    points.append({"steps": 10, "seconds": 0.05 + 0.3 + 0.8})
    fit = calibrate.fitted(points, ["steps"])
    assert any(point["seconds"] > calibrate.unclamped(fit, point) for point in points), "least squares misses it"
    covering = calibrate.covering(fit, points)
    assert covering["per_unit_s"] == fit["per_unit_s"] and covering["overhead_s"] > fit["overhead_s"]
    assert all(calibrate.unclamped(covering, point) >= point["seconds"] for point in points)
    assert calibrate.covering(covering, points) == covering  # nothing left to cover: unchanged


def test_the_slice_factor_is_the_ratio_of_what_bounds_the_work():
    assert calibrate.slice_factor("NVIDIA H200", "large", "bandwidth") == pytest.approx(4.8 / 0.8, 1e-3)
    assert calibrate.slice_factor("NVIDIA H200", "large", "compute") == pytest.approx(989 / 250, 1e-3)
    assert calibrate.slice_factor("NVIDIA H200", "xlarge", "compute") == pytest.approx(989 / 500, 1e-3)
    # Each fit records what bounds its handler's GPU work, from its plan in calibration.py (decoding at batch 1
    # reads every weight per token; a denoising step is arithmetic); a fit without one may be either.
    bandwidth, compute = {**FIT, "bound": "bandwidth"}, {**FIT, "bound": "compute"}
    assert calibrate.bound_of({"a": bandwidth}) == "bandwidth" and calibrate.bound_of({"a": compute}) == "compute"
    assert calibrate.bound_of({"a": bandwidth, "b": compute}) == calibrate.bound_of({"mine": FIT}) == "either"
    table = calibrate.build_table({"generate": compute}, {"gpu": "NVIDIA H200"}, "large")
    assert table["target"]["slice_factor"] == calibrate.slice_factor("NVIDIA H200", "large", "compute")


def test_without_a_plan_the_slice_factor_is_the_larger_of_the_bandwidth_and_compute_ratios():
    assert calibrate.slice_factor("NVIDIA H100 80GB HBM3", "large") == pytest.approx(max(3.35 / 0.8, 989 / 250), 1e-3)
    assert calibrate.slice_factor("NVIDIA H100 80GB HBM3", "xlarge") == pytest.approx(max(3.35 / 1.6, 989 / 500), 1e-3)
    assert calibrate.slice_factor("NVIDIA L40S", "large") == pytest.approx(max(0.864 / 0.8, 362 / 250), 1e-3)
    assert calibrate.slice_factor("NVIDIA L4", "large") == pytest.approx(max(0.3 / 0.8, 121 / 250), 1e-3)
    assert calibrate.slice_factor("Some Future GPU", "large") is None
    assert calibrate.slice_factor("Some Future GPU", "local") == 1.0


def test_only_the_gpu_seconds_slow_down_on_the_slice_then_margin_and_grant_apply():
    # Wall 1 + 0.1 x steps, GPU 0.5 + 0.05 x steps, a slice 3x slower: 1 + 0.5 x 2 = 2 s and 0.1 + 0.05 x 2 = 0.2 s
    # per step; then x1.25 margin and /1.6 grant.
    overhead, per_unit = calibrate.declared_coefficients(FIT, factor=3.0, margin=1.25, grant_factor=1.6)
    assert overhead == pytest.approx(2.0 * 1.25 / 1.6, rel=1e-3) and overhead >= 2.0 * 1.25 / 1.6
    assert per_unit == {"steps": pytest.approx(0.2 * 1.25 / 1.6, rel=1e-3)}
    host_only = {**FIT, "gpu": {"overhead_s": 0.0, "per_unit_s": {"steps": 0.0}}}
    assert calibrate.declared_coefficients(host_only, 3.0, 1.25, 1.0) == (1.25, {"steps": 0.125})
    # A faster target takes GPU time off, never below nothing.
    all_gpu = {**FIT, "gpu": {"overhead_s": 1.0, "per_unit_s": {"steps": 0.1}}}
    assert calibrate.declared_coefficients(all_gpu, 0.5, 1.0, 1.0) == (0.5, {"steps": 0.05})


def test_the_table_adds_the_cold_start_and_states_its_factors():
    measured = {"gpu": "NVIDIA H100 80GB HBM3", "weights_gb": 4.0}
    table = calibrate.build_table({"work": FIT}, measured, "large", margin=1.2, load_gbs=2.0)
    target, entry = table["target"], table["handlers"]["work"]
    factor = calibrate.slice_factor(measured["gpu"], "large")
    assert target == {"size": "large", "gpu": calibrate.TARGETS["large"].description, "slice_factor": factor,
                      "grant_factor": 1.5, "margin": 1.2, "cold_start_s": 2.0}  # fmt: skip
    assert entry["overhead_s"] == pytest.approx((1.0 + 0.5 * (factor - 1)) * 1.2 / 1.5 + 2.0 * 1.2 / 1.5, rel=1e-3)
    assert entry["per_unit_s"]["steps"] == pytest.approx((0.1 + 0.05 * (factor - 1)) * 1.2 / 1.5, rel=1e-3)
    assert (entry["floor_s"], entry["ceiling_s"]) == (5, 60)
    local = calibrate.build_table({"work": FIT}, measured, "local")
    assert local["target"]["cold_start_s"] == 0
    assert (local["handlers"]["work"]["floor_s"], local["handlers"]["work"]["ceiling_s"]) == (1, 3600)
    assert local["handlers"]["work"]["overhead_s"] == pytest.approx(1.25)
    xlarge = calibrate.build_table({"work": FIT}, measured, "xlarge", factor=2.0)
    assert (xlarge["target"]["slice_factor"], xlarge["target"]["grant_factor"]) == (2.0, 1.0)
    with pytest.raises(ValueError, match="slice-factor"):
        calibrate.build_table({"work": FIT}, {"gpu": "Some Future GPU"}, "large")
    with pytest.raises(ValueError, match="margin"):
        calibrate.build_table({"work": FIT}, measured, "large", margin=0.9)


def test_the_file_format_round_trips(tmp_path):
    table = calibrate.build_table({"work": FIT}, {"gpu": "NVIDIA H100 80GB HBM3"}, "xlarge")
    path = tmp_path / "durations.json"
    calibrate.write(table, path)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(table, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(text) == table and list(tmp_path.iterdir()) == [path]
    assert set(table) == {"about", "target", "measured", "handlers"}
    assert set(table["handlers"]["work"]) == {"overhead_s", "per_unit_s", "floor_s", "ceiling_s", "fit", "points"}
    assert calibrate.stored_fits(table) == {"work": FIT}


def test_the_summary_warns_of_what_the_margin_or_the_ceiling_does_not_cover():
    late = {**FIT, "points": [*FIT["points"], {"steps": 20, "seconds": 9.0}]}  # the fit x 1.25 gives 4 s
    table = calibrate.build_table({"work": late}, {"gpu": "NVIDIA H100 80GB HBM3"}, "large")
    text = calibrate.summary(table, {"work": ("600 steps", {"steps": 600})})
    assert "at steps 20 the fit at this GPU's speed declares 4 s, but it took 9.0 s" in text
    assert "the largest request the UI allows (600 steps) needs" in text and "over the 60 s ceiling" in text
    quiet = calibrate.summary(calibrate.build_table({"work": FIT}, {"gpu": "NVIDIA H100 80GB HBM3"}, "large"),
                              {"work": ("50 steps", {"steps": 50})})  # fmt: skip
    assert "warning" not in quiet
