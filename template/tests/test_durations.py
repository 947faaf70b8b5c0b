"""Durations: every GPU handler app.py declares has its entry in durations.json, for the GPU size it asks for, a
calibration plan in calibration.py for the units that entry prices, and logs declared against actual seconds; and
durations.json is what `python -m zerogpu.calibrate` would write from the fits it holds (docs/durations.md)."""

import ast
import json
from pathlib import Path

from zerogpu import calibrate, durations

SPACE_DIR = Path(__file__).resolve().parent.parent


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


def test_every_estimator_in_app_py_passes_the_units_its_entry_prices():
    table = durations.load()
    for node in ast.walk(app_tree()):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "durations.estimate":
            handler = ast.literal_eval(node.args[0])
            passed = {keyword.arg for keyword in node.keywords}
            assert passed == set(table["handlers"][handler]["per_unit_s"]), (handler, passed)


def test_the_shipped_file_is_what_calibrate_would_write_from_its_own_fits():
    shipped = json.loads((SPACE_DIR / "durations.json").read_text(encoding="utf-8"))
    target = shipped["target"]
    again = calibrate.build_table(calibrate.stored_fits(shipped), shipped["measured"], target["size"], target["margin"],
                                  target["slice_factor"], target["grant_factor"])  # fmt: skip
    assert again["handlers"] == shipped["handlers"]
