"""How many GPU seconds each request asks ZeroGPU for, and how many it took.

ZeroGPU checks the seconds a call declares, not the seconds it uses, against the visitor's remaining quota, and
shorter requests queue first: an estimate that overshoots locks visitors out early, one that undershoots gets the
call aborted. So the estimates here are fitted to measurements rather than guessed:

- `estimate(handler, **units)`: `overhead_s` plus, for each unit of work the handler's entry in durations.json
  prices (new tokens; steps, megapixels and steps x megapixels), its `per_unit_s` times the amount asked for,
  rounded up to whole seconds (ZeroGPU reads the value as `timedelta(seconds=...).seconds`, which drops fractions)
  and clamped to the file's `floor_s` and `ceiling_s`. It takes any value (`amount(value)`), so that an estimator
  never raises on a bad request: the handler refuses that with a message instead.
- `most_units(handler, unit, ...)`: the most of one unit whose estimate stays under the ceiling, for a UI's limit.
- `logged(estimator)`: wraps a handler so that every call prints one line with the seconds it declared and the
  seconds it took, e.g. `duration generate: declared 9 s, took 3.41 s (declared/actual 2.64)`.

durations.json, beside app.py, is written by `python -m zerogpu.calibrate` on a machine with a GPU; the template
ships values for the app's default model. This module is part of the template's zerogpu package (`copier update`
keeps it current); durations.json is yours once the Space exists.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DURATIONS_FILE = Path(__file__).resolve().parent.parent / "durations.json"  # the Space's own, beside app.py

log = logging.getLogger("durations")
if not log.handlers:  # one plain line on stdout, which is what the Space's logs show
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def load(path: Path = DURATIONS_FILE) -> dict[str, Any]:
    """The durations file, checked enough that a broken one fails at start-up rather than on a visitor's call."""
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    for name, entry in table["handlers"].items():
        costs = entry.get("per_unit_s")
        if not isinstance(costs, dict) or not costs:
            raise ValueError(f"{path}: handlers.{name}.per_unit_s must map each unit of work to its seconds")
        numbers = {key: entry.get(key) for key in ("overhead_s", "floor_s", "ceiling_s")}
        numbers.update({f"per_unit_s.{unit}": cost for unit, cost in costs.items()})
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise ValueError(f"{path}: handlers.{name}.{key} must be a number >= 0, not {value!r}")
        if not 1 <= entry["floor_s"] <= entry["ceiling_s"]:
            raise ValueError(f"{path}: handlers.{name} needs 1 <= floor_s <= ceiling_s")
    return table


@functools.cache
def table() -> dict[str, Any]:
    """The Space's durations.json, read once, the first time an estimate is asked for (app.py asks at import)."""
    return load()


def amount(value: Any) -> float:
    """The amount of work a request's value asks for, whatever the value is: a number as a float (math.inf when too
    big for one), 0 for a negative one, NaN or anything that is not a number (a string, None, a bool). ZeroGPU calls
    the estimator before the handler can refuse a bad request, and a call whose estimator raises fails before any
    GPU is asked for, with no message for the visitor: so estimators compute with amount(...), never raw values."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        number = float(value)
    except OverflowError:  # an int of hundreds of digits
        return math.inf
    return number if number > 0 else 0.0  # NaN > 0 is False too


def seconds_for(entry: dict[str, Any], units: dict[str, Any]) -> int:
    """Whole seconds for one handler entry and the amounts of work asked for, within its floor and ceiling. Any
    amount is taken (see amount()): the smallest request for what is not a number, the ceiling for what is huge."""
    costs = entry["per_unit_s"]
    if set(units) != set(costs):
        raise ValueError(f"durations.json prices {sorted(costs)}, but the estimator passed {sorted(units)}")
    seconds = entry["overhead_s"] + sum(cost * amount(units[unit]) for unit, cost in costs.items() if cost)
    if not seconds < entry["ceiling_s"]:  # inf included
        return int(entry["ceiling_s"])
    seconds = math.ceil(round(seconds, 6))  # up, so that the margin is never cut; round(): 3.0000000001 stays 3
    return int(min(max(seconds, entry["floor_s"]), entry["ceiling_s"]))


def estimate(handler: str, **units: Any) -> int:
    """Whole seconds to declare for `handler` (its entry in durations.json) given the work asked for, by unit:
    e.g. `estimate("generate", steps=25, megapixels=1.05, step_megapixels=26.2)`. It never raises for an amount,
    whatever its type or value (see amount()), and always returns what ZeroGPU accepts: floor_s to ceiling_s."""
    return seconds_for(table()["handlers"][handler], units)


def most_units(handler: str, unit: str, step: int = 1, at_most: int | None = None, **other_units: float) -> int:
    """The most of `unit`, in multiples of `step` and at most `at_most`, whose estimate for `handler` (the other units
    as given) stays under its ceiling: the largest request a UI should allow, since ZeroGPU would stop a call that
    needs more than the ceiling it is clamped to. E.g. `most_units("chat", "new_tokens", step=64, at_most=2048)`."""
    entry = table()["handlers"][handler]
    if set(entry["per_unit_s"]) != {unit, *other_units}:
        raise ValueError(f"durations.json prices {sorted(entry['per_unit_s'])} for {handler}: give the others' amounts")
    cost = entry["per_unit_s"][unit]
    fixed = entry["overhead_s"] + sum(entry["per_unit_s"][name] * amount for name, amount in other_units.items())
    seconds_left = entry["ceiling_s"] - fixed
    most = math.inf if cost == 0 else seconds_left / cost
    if at_most is not None:
        most = min(most, at_most)
    if most == math.inf:
        raise ValueError(f"durations.json prices no {unit} for {handler}: pass at_most")
    most = int(round(most, 6) // step * step)  # round(): 58 / 0.1 is 579.99999999999 in floating point
    if most < step:
        raise ValueError(f"durations.json leaves {seconds_left:.1f} s under the ceiling for {handler}: not one {unit}")
    return most


def logged(estimator: Callable[..., int]) -> Callable[[Callable], Callable]:
    """Log each call of the decorated handler: the seconds `estimator` declared for it and the seconds it took.

    Put it under `@spaces.GPU(...)`, so that it runs where the GPU work runs and times only that. The wrapper keeps
    the handler's signature (Gradio and spaces.GPU read it through `__wrapped__`) and stays a generator function
    when the handler is one, so streaming is unchanged; a generator is timed until it finishes or is closed.
    """

    def decorate(handler: Callable) -> Callable:
        if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):
            raise TypeError(f"{handler.__name__}: ZeroGPU runs no async handlers, so durations.logged does not either")

        def declared(args: tuple, kwargs: dict) -> int | None:
            try:
                return estimator(*args, **kwargs)
            except Exception:  # noqa: BLE001 - the estimate is only for the log line: it must never break the call
                return None

        @contextlib.contextmanager
        def timed(args: tuple, kwargs: dict):
            seconds = declared(args, kwargs)
            start = time.perf_counter()
            outcome = ""
            try:
                yield
            except GeneratorExit:  # the visitor stopped the stream, or it was dropped
                outcome = "stopped early"
                raise
            except BaseException as error:
                outcome = f"raised {type(error).__name__}"
                raise
            finally:
                report(handler.__name__, seconds, time.perf_counter() - start, outcome)

        if inspect.isgeneratorfunction(handler):

            @functools.wraps(handler)
            def wrapper(*args, **kwargs):
                with timed(args, kwargs):
                    yield from handler(*args, **kwargs)

        else:

            @functools.wraps(handler)
            def wrapper(*args, **kwargs):
                with timed(args, kwargs):
                    return handler(*args, **kwargs)

        return wrapper

    return decorate


def report(handler: str, declared: int | None, actual: float, outcome: str = "") -> str:
    """The log line for one call; it is also returned, for tests."""
    if declared is None:
        line = f"duration {handler}: declared ? s (the estimator failed), took {actual:.2f} s"
    else:
        ratio = declared / actual if actual > 0 else math.inf
        line = f"duration {handler}: declared {declared} s, took {actual:.2f} s (declared/actual {ratio:.2f})"
        if actual > declared:
            line += " OVER the estimate: recalibrate (python -m zerogpu.calibrate)"
    if outcome:
        line += f" [{outcome}]"
    log.info(line)
    return line
