"""zerogpu.durations: estimates in whole seconds within the entry's floor and ceiling, for exactly the units it
prices, whatever the values; the largest request under the ceiling; a broken durations.json refused at load; and the
log line every GPU call writes. Standard library only, as the module is."""

import inspect
import json
import logging
from unittest import mock

import pytest
from zerogpu import durations


@pytest.fixture
def log_lines():
    """The lines durations.py logs during a test."""
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    durations.log.addHandler(handler)
    yield lines
    durations.log.removeHandler(handler)


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


def test_most_units_is_the_largest_request_under_the_ceiling():
    table = {"handlers": {"chat": {"overhead_s": 2.0, "per_unit_s": {"new_tokens": 0.1}, "floor_s": 5, "ceiling_s": 60},
                          "draw": {"overhead_s": 1.0, "per_unit_s": {"steps": 0.5, "megapixels": 4.0}, "floor_s": 5,
                                   "ceiling_s": 60}}}  # fmt: skip
    with mock.patch.object(durations, "table", lambda: table):
        assert durations.most_units("chat", "new_tokens") == 580  # 2 + 0.1 x 580 = 60 s
        assert durations.most_units("chat", "new_tokens", step=64) == 576
        assert durations.most_units("chat", "new_tokens", step=64, at_most=256) == 256
        assert durations.most_units("draw", "steps", megapixels=1.0) == 110  # 1 + 4 + 0.5 x 110 = 60 s
        with pytest.raises(ValueError, match="give the others' amounts"):
            durations.most_units("draw", "steps")
        with pytest.raises(ValueError, match="not one new_tokens"):
            durations.most_units("chat", "new_tokens", step=1000)
    free = {"handlers": {"chat": {"overhead_s": 2.0, "per_unit_s": {"new_tokens": 0.0}, "floor_s": 5, "ceiling_s": 60}}}
    with mock.patch.object(durations, "table", lambda: free):
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
