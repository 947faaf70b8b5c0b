"""How `python -m zerogpu.calibrate` times this Space's GPU handlers: one plan per handler, by name.

A handler you add to app.py gets a plan here: how to call it at a given input size, the spread of sizes to fit,
and the amount of each unit its duration estimator passes to durations.estimate at that size.
"""

from zerogpu.calibrate import Plan

PROMPT_TOKENS = 200  # a typical chat turn; the GPU benchmark also times the longest prompt the app accepts


def _prompt(tokenizer, tokens: int) -> str:
    """A user message of about `tokens` tokens."""
    text = "Tell me everything you know about the history of computing, in detail."
    while len(tokenizer(text)["input_ids"]) < tokens:
        text += " And then about networks, compilers, graphics, storage and the people who built them."
    return text


def _run_chat(app, size) -> None:
    tokens, prompt_tokens = size if isinstance(size, tuple) else (size, PROMPT_TOKENS)
    message = _prompt(app.tokenizer, prompt_tokens)
    config = app.model.generation_config
    saved = config.min_new_tokens
    config.min_new_tokens = tokens  # the worst case: the model may not stop before max_new_tokens
    try:
        for _ in app.chat(message, [], tokens, 0.7):
            pass
    finally:
        config.min_new_tokens = saved


def _chat_sizes(app) -> list[int]:
    top = int(app.MAX_NEW_TOKENS)
    return sorted({1, max(1, top // 8), max(1, top // 2), top})


def _count(tokens: int, prompt_tokens: int | None = None) -> str:
    text = f"{tokens} new token{'s' * (tokens != 1)}"
    return text if prompt_tokens is None else f"{text}, {prompt_tokens}-token prompt"


PLANS = {
    "chat": Plan(
        handler="chat",
        units=("new_tokens",),
        sizes=_chat_sizes,
        gpu_sizes=lambda app: [1, max(1, int(app.MAX_NEW_TOKENS) // 8)],
        largest=lambda app: None,  # MAX_NEW_TOKENS follows durations.json (durations.most_units)
        amounts=lambda size: {"new_tokens": float(size[0] if isinstance(size, tuple) else size)},
        run=_run_chat,
        label=lambda size: _count(*size) if isinstance(size, tuple) else _count(size),
        bound="bandwidth",  # batch 1: each new token reads every weight once
    ),
}
