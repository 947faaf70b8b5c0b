"""The chat app, served by `python app.py` on a tiny random model and called as a user's client would."""

import itertools
import re

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


@pytest.mark.parametrize(
    ("message", "max_new_tokens", "temperature"),
    [("   ", 12, 0.7), ("Hello", 0, 0.7), ("Hello", 100_000, 0.7), ("Hello", 12, -1)],
)
def test_bad_input_gives_an_error_and_the_app_keeps_serving(client, message, max_new_tokens, temperature):
    with pytest.raises(AppError):
        client.predict(message, max_new_tokens, temperature, api_name="/chat")
    assert client.predict("Still there?", 4, 0, api_name="/chat")


def test_estimate_grows_with_the_tokens_asked_for_and_stays_clamped(app_module):
    estimates = [app_module.chat_duration("Hi", [], tokens, 0.7) for tokens in (1, 256, 1024)]
    assert all(isinstance(seconds, int) for seconds in estimates)
    assert estimates == sorted(estimates) and estimates[0] < estimates[-1]
    assert 1 <= estimates[0] and estimates[-1] <= 120


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
