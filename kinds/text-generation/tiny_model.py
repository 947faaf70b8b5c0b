"""Tiny random-weight chat model for offline tests of the text-generation Space.

``save_tiny_model(directory)`` writes a LlamaForCausalLM (the architecture of
HuggingFaceTB/SmolLM2-1.7B-Instruct, shrunk) and a fast byte-level BPE
tokenizer with a ChatML chat template, both built offline. Load with::

    tok = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)

Guarantees (deterministic: fixed seeds, no network):
- ``tok.apply_chat_template(messages, add_generation_prompt=True,
  return_tensors="pt", return_dict=True)`` works.
- the saved generation config has no eos token, and suppresses every special
  token and every token that does not start with a space, so
  ``generate(max_new_tokens=N)`` always returns exactly N new tokens and the
  decoded text (skip_special_tokens=True) is N space-separated word pieces,
  which makes ``TextIteratorStreamer`` yield several chunks.
"""

from __future__ import annotations

import pathlib

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

BOS = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [BOS, IM_START, IM_END]

# ChatML, as SmolLM2-Instruct uses (content must be a string).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "Hello there, how are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "A tiny model answers every question with random words.",
    "Tell me a story about a small robot and a big cat.",
    "What is the weather like in the mountains this morning?",
    "Streaming tokens one by one makes the chat feel alive.",
    "system user assistant: you are a helpful assistant.",
    "Numbers 0 1 2 3 4 5 6 7 8 9 and more words to learn.",
] * 4

VOCAB_SIZE = 512


def _build_tokenizer() -> PreTrainedTokenizerFast:
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=IM_END,
        pad_token=IM_END,
        unk_token=BOS,
        model_max_length=2048,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _suppressed_ids(tokenizer: PreTrainedTokenizerFast) -> list[int]:
    """Ids the model must never produce: specials and tokens not starting with a space+word char."""
    keep = []
    for token, idx in tokenizer.get_vocab().items():
        if token in SPECIAL_TOKENS:
            continue
        # "Ġ" is the byte-level form of a space; keep " word"-like tokens only.
        if token.startswith("Ġ") and len(token) > 1 and token[1:].isalnum():
            keep.append(idx)
    keep_set = set(keep)
    return sorted(i for i in range(len(tokenizer)) if i not in keep_set)


def save_tiny_model(directory: pathlib.Path) -> None:
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _build_tokenizer()

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        initializer_range=0.5,  # large init: greedy output varies instead of repeating one word
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=None,  # never stop early
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=None,
        pad_token_id=tokenizer.pad_token_id,
        suppress_tokens=_suppressed_ids(tokenizer),
        do_sample=False,
    )
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


if __name__ == "__main__":  # uv run tests/tiny_model.py tiny-model   (then: MODEL_ID=tiny-model uv run app.py)
    import argparse

    parser = argparse.ArgumentParser(description="Write a tiny random chat model for the app.")
    parser.add_argument("directory", type=pathlib.Path, help="where to write it (a new or empty folder)")
    directory = parser.parse_args().directory
    if directory.exists() and any(directory.iterdir()):
        parser.error(f"{directory} is not empty: give a new folder")
    save_tiny_model(directory)
    print(f"Wrote {directory}/. Run the app on it: MODEL_ID={directory} uv run app.py")
