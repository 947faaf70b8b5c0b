"""The chat app, served by `python app.py` on a tiny random model and called as a user's client would."""

import itertools
import re

import gradio as gr
import pytest
import torch
from gradio_client.exceptions import AppError
from transformers import AutoModelForCausalLM, AutoTokenizer


def greedy_reply(model_dir, message: str, max_new_tokens: int) -> str:
    """The reply greedy decoding gives, computed here with transformers alone, without the app."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    conversation = [{"role": "user", "content": message}]
    inputs = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[-1] :], skip_special_tokens=True)


def test_chat_streams_the_reply_token_by_token(client, tiny_model_dir):
    job = client.submit("Hello there", 12, 0, api_name="/chat")
    updates = [update for update in job if update]
    reply = job.result()
    assert len(updates) >= 3, f"the reply did not stream: {updates}"
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(updates)), updates
    assert reply == updates[-1] == greedy_reply(tiny_model_dir, "Hello there", 12)


# Out-of-range slider values are refused by Gradio's Slider itself; the app's checks refuse the rest (and the same
# values in direct calls, as test_the_handler_refuses_out_of_range_values shows).
@pytest.mark.parametrize(
    ("message", "max_new_tokens", "temperature", "error"),
    [("   ", 12, 0.7, "Write a message"), ("", 12, 0.7, "Write a message"), ("Hello", 0, 0.7, "less than minimum"),
     ("Hello", 100_000, 0.7, "greater than maximum"), ("Hello", 12, -1, "less than minimum"),
     ("Hello", 12, 5, "greater than maximum"), ("Hello " * 20_000, 12, 0.7, "too long")],
    ids=["blank", "empty", "no-tokens", "too-many-tokens", "negative-temperature", "hot", "huge-message"],
)  # fmt: skip
def test_bad_input_gives_an_error_and_the_app_keeps_serving(client, message, max_new_tokens, temperature, error):
    with pytest.raises(AppError, match=error):  # the app's own gr.Error, not a crash
        client.predict(message, max_new_tokens, temperature, api_name="/chat")
    assert client.predict("Still there?", 4, 0, api_name="/chat")


@pytest.mark.parametrize("message", ["", "   ", "\n"])
def test_the_page_refuses_an_empty_message_before_the_handler(app_module, message):
    assert app_module.validate_message(message) == {
        "__type__": "validate",
        "is_valid": False,
        "message": "Write a message first.",
    }
    assert app_module.validate_message("Hello")["is_valid"] is True


@pytest.mark.parametrize(
    ("max_new_tokens", "temperature", "error"),
    [(0, 0.7, "Max new tokens"), (5000, 0.7, "Max new tokens"), (12, 2.5, "Temperature")],
)
def test_the_handler_refuses_out_of_range_values(app_module, max_new_tokens, temperature, error):
    """The handler checks its inputs itself too: code that calls it directly gets no Slider in between."""
    with pytest.raises(gr.Error, match=error):
        list(app_module.chat("Hello", [], max_new_tokens, temperature))


@pytest.mark.parametrize("temperature", [2, 1, 0])
def test_a_whole_number_temperature_samples(client, temperature):
    """The slider's ends arrive as ints through the API: transformers wants a float, the app converts it."""
    assert client.predict("Hello", 4, temperature, api_name="/chat")


def test_estimate_grows_with_the_tokens_asked_for_and_stays_clamped(app_module):
    estimates = [app_module.chat_duration("Hi", [], tokens, 0.7) for tokens in (1, 256, app_module.MAX_NEW_TOKENS)]
    assert all(isinstance(seconds, int) for seconds in estimates)
    assert estimates == sorted(estimates) and estimates[0] < estimates[-1]
    assert 1 <= estimates[0] and estimates[-1] <= app_module.durations.load()["handlers"]["chat"]["ceiling_s"]


def test_the_ui_offers_the_most_tokens_that_fit_under_the_ceiling(app_module):
    """At the ceiling the estimate would be clamped, and ZeroGPU would stop the reply before it is done; any fewer
    than fit would refuse visitors what their quota allows."""
    entry = app_module.durations.load()["handlers"]["chat"]
    unclamped = {**entry, "ceiling_s": 10**6}
    most = app_module.MAX_NEW_TOKENS
    assert app_module.durations.seconds_for(unclamped, {"new_tokens": most}) <= entry["ceiling_s"]
    assert most == 2048 or app_module.durations.seconds_for(unclamped, {"new_tokens": most + 64}) > entry["ceiling_s"]
    assert most % 64 == 0 and most >= 256


def logged_calls(app_log) -> list[tuple[int, float]]:
    """(declared, actual) seconds of each `chat` call in the served app's log."""
    found = re.findall(r"^duration chat: declared (\d+) s, took ([\d.]+) s", app_log.read_text(), re.MULTILINE)
    return [(int(declared), float(actual)) for declared, actual in found]


def test_each_call_logs_its_declared_and_actual_seconds(client, app_log, app_module):
    before = logged_calls(app_log)
    client.predict("How long will this take?", 9, 0, api_name="/chat")
    after = logged_calls(app_log)
    assert len(after) == len(before) + 1, app_log.read_text()
    declared, actual = after[-1]
    assert declared == app_module.chat_duration("How long will this take?", [], 9, 0) and actual > 0
