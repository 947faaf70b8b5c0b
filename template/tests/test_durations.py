"""Durations: the estimates app.py declares come from durations.json, stay within its floor and ceiling, every GPU
call logs declared against actual seconds, and `python -m zerogpu.calibrate` fits, converts and writes that file,
or refuses without a GPU. All of it runs on CPU; the timing itself needs a GPU (docs/durations.md)."""

import ast
import hashlib
import inspect
import json
import logging
import math
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

import durations
from zerogpu import calibrate

SPACE_DIR = Path(__file__).resolve().parent.parent
# A handler priced per step: wall seconds 1 + 0.1 x steps, of which the GPU is busy 0.5 + 0.05 x steps.
FIT = {
    "overhead_s": 1.0,
    "per_unit_s": {"steps": 0.1},
    "gpu": {"overhead_s": 0.5, "per_unit_s": {"steps": 0.05}},
    "points": [{"steps": 1, "seconds": 1.1}, {"steps": 50, "seconds": 6.0}],
}


def app_tree() -> ast.Module:
    return ast.parse((SPACE_DIR / "app.py").read_text(encoding="utf-8"))


def gpu_handlers() -> dict[str, ast.Call]:
    """app.py's @spaces.GPU functions that have an estimator (start-up calls declare a fixed duration instead)."""
    handlers = {}
    for node in app_tree().body:
        for decorator in getattr(node, "decorator_list", []):
            if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "spaces.GPU":
                keywords = {keyword.arg: keyword.value for keyword in decorator.keywords}
                if isinstance(keywords.get("duration"), ast.Name):
                    handlers[node.name] = decorator
    return handlers


@pytest.fixture
def log_lines():
    """The lines durations.py logs during a test."""
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    durations.log.addHandler(handler)
    yield lines
    durations.log.removeHandler(handler)


# --- durations.json and app.py agree ---------------------------------------------------------------------------------


def test_the_data_file_is_calibrated_for_the_gpu_size_app_py_asks_for():
    table = durations.load()
    sizes = set()
    for name, decorator in gpu_handlers().items():
        size = {keyword.arg: keyword.value for keyword in decorator.keywords}.get("size")
        sizes.add(ast.literal_eval(size) if size is not None else "large")
        assert name in table["handlers"], f"durations.json has no entry for the handler {name}"
    assert sizes == {table["target"]["size"]}, (
        f"app.py asks for {sorted(sizes)} but durations.json is for {table['target']['size']}: run "
        f"`python -m zerogpu.calibrate --refit --target {min(sizes)}` (no GPU needed)"
    )


def test_every_handler_has_a_calibration_plan_for_the_units_it_is_priced_in():
    """So that `python -m zerogpu.calibrate` can time every GPU handler: calibration.py (the Space's own file) holds
    a plan for each, measuring the units its durations.json entry prices, and recording what bounds its work."""
    plans = calibrate.load_plans(SPACE_DIR)
    table = durations.load()
    for name in gpu_handlers():
        assert name in plans, f"calibration.py has no plan for the handler {name}: add one to its PLANS"
        assert set(plans[name].units) == set(table["handlers"][name]["per_unit_s"]), (name, plans[name].units)
        assert plans[name].bound in calibrate.RATIOS, (name, plans[name].bound)


def test_every_handler_logs_its_calls_with_its_own_estimator():
    """So that the Space's logs show declared against actual seconds for every GPU call (durations.logged)."""
    functions = {node.name: node for node in app_tree().body if isinstance(node, ast.FunctionDef)}
    for name, decorator in gpu_handlers().items():
        estimator = {keyword.arg: keyword.value for keyword in decorator.keywords}["duration"].id
        logged = [ast.unparse(d) for d in functions[name].decorator_list if "durations.logged" in ast.unparse(d)]
        assert logged == [f"durations.logged({estimator})"], (
            f"{name}: add @durations.logged({estimator}) under its @spaces.GPU(...)"
        )


def test_estimates_are_whole_seconds_within_floor_and_ceiling(tmp_path):
    table = calibrate.build_table({"work": FIT}, {"gpu": "NVIDIA H100 80GB HBM3", "weights_gb": 3.0}, "large")
    path = tmp_path / "durations.json"
    calibrate.write(table, path)
    entry = durations.load(path)["handlers"]["work"]
    for steps in (0, 1e-9, 0.5, 1, 7.3, 50, 1e3, 1e9, -5):
        seconds = durations.seconds_for(entry, {"steps": steps})
        assert isinstance(seconds, int) and entry["floor_s"] <= seconds <= entry["ceiling_s"], (steps, seconds)
        assert seconds == calibrate.estimate(entry, {"steps": steps})
    assert durations.seconds_for(entry, {"steps": 1e9}) == entry["ceiling_s"]
    assert durations.seconds_for(entry, {"steps": 0}) == max(entry["floor_s"], math.ceil(entry["overhead_s"]))


def test_every_unit_counts_and_rounds_up_so_the_margin_is_never_cut():
    entry = {"overhead_s": 1.0, "per_unit_s": {"steps": 0.5, "megapixels": 2.0}, "floor_s": 1, "ceiling_s": 120}
    assert durations.seconds_for(entry, {"steps": 5, "megapixels": 0}) == 4  # 3.5 s: ZeroGPU would truncate it to 3
    assert durations.seconds_for(entry, {"steps": 4, "megapixels": 0}) == 3  # exactly 3.0 s stays 3
    assert durations.seconds_for(entry, {"steps": 4, "megapixels": 1.5}) == 6


def test_an_estimator_passing_other_units_than_the_file_prices_is_refused():
    entry = {"overhead_s": 1.0, "per_unit_s": {"steps": 0.5, "megapixels": 2.0}, "floor_s": 1, "ceiling_s": 120}
    with pytest.raises(ValueError, match=r"prices \['megapixels', 'steps'\], but the estimator passed \['steps'\]"):
        durations.seconds_for(entry, {"steps": 5})
    with pytest.raises(ValueError, match="tokens"):
        durations.seconds_for(entry, {"steps": 5, "megapixels": 1, "tokens": 3})


def test_every_estimator_in_app_py_passes_the_units_its_entry_prices():
    table = durations.load()
    for node in ast.walk(app_tree()):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "durations.estimate":
            handler = ast.literal_eval(node.args[0])
            passed = {keyword.arg for keyword in node.keywords}
            assert passed == set(table["handlers"][handler]["per_unit_s"]), (handler, passed)


def test_most_units_is_the_largest_request_under_the_ceiling():
    table = {"handlers": {"chat": {"overhead_s": 2.0, "per_unit_s": {"new_tokens": 0.1}, "floor_s": 5, "ceiling_s": 60},
                          "draw": {"overhead_s": 1.0, "per_unit_s": {"steps": 0.5, "megapixels": 4.0}, "floor_s": 5,
                                   "ceiling_s": 60}}}  # fmt: skip
    with mock.patch.dict(durations.TABLE, table):
        assert durations.most_units("chat", "new_tokens") == 580  # 2 + 0.1 x 580 = 60 s
        assert durations.most_units("chat", "new_tokens", step=64) == 576
        assert durations.most_units("chat", "new_tokens", step=64, at_most=256) == 256
        assert durations.most_units("draw", "steps", megapixels=1.0) == 110  # 1 + 4 + 0.5 x 110 = 60 s
        with pytest.raises(ValueError, match="give the others' amounts"):
            durations.most_units("draw", "steps")
        with pytest.raises(ValueError, match="not one new_tokens"):
            durations.most_units("chat", "new_tokens", step=1000)
    free = {"handlers": {"chat": {"overhead_s": 2.0, "per_unit_s": {"new_tokens": 0.0}, "floor_s": 5, "ceiling_s": 60}}}
    with mock.patch.dict(durations.TABLE, free):
        assert durations.most_units("chat", "new_tokens", at_most=2048) == 2048
        with pytest.raises(ValueError, match="at_most"):
            durations.most_units("chat", "new_tokens")


@pytest.mark.parametrize(
    ("change", "message"),
    [({"per_unit_s": {"steps": -1}}, "per_unit_s.steps"), ({"per_unit_s": 0.1}, "map each unit"),
     ({"per_unit_s": {}}, "map each unit"), ({"overhead_s": True}, "overhead_s"), ({"ceiling_s": None}, "ceiling_s"),
     ({"overhead_s": float("inf")}, "overhead_s"), ({"floor_s": 0}, "floor_s"), ({"floor_s": 9, "ceiling_s": 5}, "floor_s")],
)  # fmt: skip
def test_a_broken_data_file_fails_at_load(tmp_path, change, message):
    entry = {"overhead_s": 1, "per_unit_s": {"steps": 0.1}, "floor_s": 1, "ceiling_s": 60, **change}
    path = tmp_path / "durations.json"
    path.write_text(json.dumps({"handlers": {"work": entry}}))
    with pytest.raises(ValueError, match=message):
        durations.load(path)


# --- the log line ----------------------------------------------------------------------------------------------------


def estimate_steps(prompt: str, steps: int) -> int:
    return 3 + steps


def test_a_call_logs_one_line_with_declared_and_actual_seconds(log_lines):
    @durations.logged(estimate_steps)
    def draw(prompt: str, steps: int) -> str:
        return prompt * steps

    assert draw("ab", 2) == "abab" and draw("c", steps=4) == "cccc"
    assert len(log_lines) == 2
    assert log_lines[0].startswith("duration draw: declared 5 s, took ") and "declared/actual" in log_lines[0]
    assert log_lines[1].startswith("duration draw: declared 7 s, took ")
    assert inspect.signature(draw) == inspect.signature(draw.__wrapped__), "Gradio reads the handler's parameters"


def test_a_generator_streams_unchanged_and_logs_once_when_done(log_lines):
    @durations.logged(estimate_steps)
    def stream(prompt: str, steps: int):
        for step in range(steps):
            yield f"{prompt} {step}"

    assert inspect.isgeneratorfunction(stream), "spaces.GPU and Gradio stream only generator functions"
    assert inspect.signature(stream) == inspect.signature(stream.__wrapped__)
    assert list(stream("x", 3)) == ["x 0", "x 1", "x 2"]
    assert len(log_lines) == 1 and log_lines[0].startswith("duration stream: declared 6 s, took ")
    partial = stream("y", 5)
    assert next(partial) == "y 0"
    partial.close()  # the visitor stopped the stream
    assert len(log_lines) == 2 and log_lines[1].endswith("[stopped early]")


def test_a_failing_call_is_logged_and_still_raises(log_lines):
    @durations.logged(estimate_steps)
    def broken(prompt: str, steps: int) -> str:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        broken("x", 1)
    assert len(log_lines) == 1 and log_lines[0].endswith("[raised ValueError]")


def test_an_estimator_that_fails_never_breaks_the_call(log_lines):
    @durations.logged(lambda prompt, steps: 1 / 0)
    def draw(prompt: str, steps: int) -> str:
        return prompt

    assert draw("ok", 1) == "ok"
    assert log_lines[0].startswith("duration draw: declared ? s")


def test_a_call_longer_than_declared_says_so():
    line = durations.report("draw", 2, 3.5)
    assert "declared 2 s, took 3.50 s (declared/actual 0.57) OVER" in line


def test_async_handlers_are_refused():
    async def draw(prompt: str, steps: int) -> str:
        return prompt

    with pytest.raises(TypeError, match="async"):
        durations.logged(estimate_steps)(draw)


# --- calibrate: the arithmetic ---------------------------------------------------------------------------------------


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


def test_the_shipped_file_is_what_calibrate_would_write_from_its_own_fits():
    shipped = json.loads((SPACE_DIR / "durations.json").read_text(encoding="utf-8"))
    target = shipped["target"]
    again = calibrate.build_table(calibrate.stored_fits(shipped), shipped["measured"], target["size"], target["margin"],
                                  target["slice_factor"], target["grant_factor"])  # fmt: skip
    assert again["handlers"] == shipped["handlers"]


def test_the_summary_warns_of_what_the_margin_or_the_ceiling_does_not_cover():
    late = {**FIT, "points": [*FIT["points"], {"steps": 20, "seconds": 9.0}]}  # the fit x 1.25 gives 4 s
    table = calibrate.build_table({"work": late}, {"gpu": "NVIDIA H100 80GB HBM3"}, "large")
    text = calibrate.summary(table, {"work": ("600 steps", {"steps": 600})})
    assert "at steps 20 the fit at this GPU's speed declares 4 s, but it took 9.0 s" in text
    assert "the largest request the UI allows (600 steps) needs" in text and "over the 60 s ceiling" in text
    quiet = calibrate.summary(calibrate.build_table({"work": FIT}, {"gpu": "NVIDIA H100 80GB HBM3"}, "large"),
                              {"work": ("50 steps", {"steps": 50})})  # fmt: skip
    assert "warning" not in quiet


# --- calibrate: the command ------------------------------------------------------------------------------------------


def run_calibrate(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "", **env}  # never time a real GPU from the tests
    return subprocess.run([sys.executable, "-m", "zerogpu.calibrate", *args], cwd=SPACE_DIR, env=environment,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def digest() -> str:
    return hashlib.sha256((SPACE_DIR / "durations.json").read_bytes()).hexdigest()


def test_calibrate_without_a_gpu_says_so_and_writes_nothing(tmp_path):
    before = digest()
    output = tmp_path / "out.json"
    run = run_calibrate("--output", str(output))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "No CUDA GPU" in run.stderr and "nothing was written" in run.stderr
    assert not output.exists() and digest() == before


def test_calibrate_refuses_on_zerogpu_itself(tmp_path):
    run = run_calibrate("--output", str(tmp_path / "out.json"), SPACES_ZERO_GPU="true")
    assert run.returncode == 2 and "SPACES_ZERO_GPU" in run.stderr
    assert not (tmp_path / "out.json").exists()


def test_refit_recomputes_from_the_stored_fits_without_a_gpu(tmp_path):
    before = digest()
    output = tmp_path / "out.json"
    run = run_calibrate("--refit", "--margin", "1.5", "--output", str(output))
    assert run.returncode == 0, run.stdout + run.stderr
    shipped = json.loads((SPACE_DIR / "durations.json").read_text(encoding="utf-8"))
    refit = durations.load(output)
    assert refit["target"] == {**shipped["target"], "margin": 1.5} and digest() == before
    for name, entry in refit["handlers"].items():
        assert entry["fit"] == shipped["handlers"][name]["fit"]
        scale = 1.5 / shipped["target"]["margin"]
        for unit, cost in shipped["handlers"][name]["per_unit_s"].items():
            assert entry["per_unit_s"][unit] == pytest.approx(cost * scale, rel=1e-3, abs=1e-4)
