"""The fast decode path (fast_decode.py), on CPU, against transformers' own `generate` on tiny models.

On CPU the app decodes eagerly; `cuda_graphs.EmulatedGraph` replays the step the way a CUDA graph would, so the graph
code path runs here too. Planted capture-unsafe steps show that the checks catch them.
"""

import contextlib
import logging
import multiprocessing
import threading

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel, TextStreamer

import cuda_graphs
import fast_decode

Decoder = fast_decode.Decoder  # the shipped one (tests below plant others in fast_decode)
NEW_TOKENS = 40
LONG_MESSAGE = "Tell me a story about a small robot and a big cat, with numbers 0 1 2 3. " * 25  # about 500 tokens


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()


@pytest.fixture(params=[None, cuda_graphs.EmulatedGraph], ids=["eager", "graph"])
def graph(request, monkeypatch):
    """Each test's decoders: eager, as the app on CPU, or replayed as a CUDA graph would replay them."""
    monkeypatch.setattr(fast_decode, "POOL", fast_decode.Pool(request.param))
    return request.param


@pytest.fixture
def messages(monkeypatch) -> list[str]:
    """What fast_decode logs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    fast_decode.log.addHandler(handler)
    yield lines
    fast_decode.log.removeHandler(handler)


def chat_inputs(tokenizer, message: str) -> dict:
    conversation = [{"role": "user", "content": message}]
    return tokenizer.apply_chat_template(conversation, add_generation_prompt=True, return_tensors="pt",
                                         return_dict=True)  # fmt: skip


@pytest.mark.parametrize("message", ["Hello there", LONG_MESSAGE], ids=["short", "long"])
def test_greedy_decoding_gives_generates_tokens(model, tokenizer, graph, message):
    inputs = chat_inputs(tokenizer, message)
    expected = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    answer = fast_decode.generate(model, **inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    assert torch.equal(answer, expected)


@pytest.mark.parametrize("temperature", [0.7, 1.3])
def test_sampling_draws_generates_tokens_from_the_same_seed(model, tokenizer, graph, temperature):
    """transformers' own warpers, softmax and multinomial, in generate's order: the same draws."""
    inputs = chat_inputs(tokenizer, "Write a haiku about waiting in a queue.")
    sampling = {"do_sample": True, "temperature": temperature, "max_new_tokens": NEW_TOKENS}
    torch.manual_seed(7)
    expected = model.generate(**inputs, **sampling)
    torch.manual_seed(7)
    assert torch.equal(fast_decode.generate(model, **inputs, **sampling), expected)


def test_it_stops_at_the_end_token_where_generate_does(model, tokenizer, graph):
    inputs = chat_inputs(tokenizer, "Hello there")
    prompt = inputs["input_ids"].shape[1]
    greedy = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    end = int(greedy[0, prompt + 9])  # the tenth new token, taken as the end token
    expected = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False, eos_token_id=end)
    answer = fast_decode.generate(model, **inputs, max_new_tokens=NEW_TOKENS, do_sample=False, eos_token_id=end)
    assert torch.equal(answer, expected) and answer.shape[1] <= prompt + 10


def test_it_streams_generates_text(model, tokenizer, graph):
    class Collect(TextStreamer):
        def __init__(self):
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.pieces = []

        def on_finalized_text(self, text, stream_end=False):
            self.pieces.append(text)

    inputs = chat_inputs(tokenizer, "Tell me a story")
    streamed = []
    for run in (model.generate, lambda **kwargs: fast_decode.generate(model, **kwargs)):
        streamer = Collect()
        run(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False, streamer=streamer)
        streamed.append(streamer.pieces)
    assert streamed[0] == streamed[1] and len(streamed[1]) > 3


def test_the_graph_replays_the_eager_step(model, tokenizer):
    """Fed the same tokens, the replayed step's logits are the eager step's, and the graph passes its checks."""
    inputs = chat_inputs(tokenizer, LONG_MESSAGE)
    tokens = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)[0]
    prompt = inputs["input_ids"].shape[1]
    length = fast_decode.bucket(tokens.numel())
    replayed, eager = fast_decode.Decoder(model, length, cuda_graphs.EmulatedGraph), fast_decode.Decoder(model, length)
    for decoder in (replayed, eager):
        decoder.ids[0, : tokens.numel()] = tokens
        decoder.prefill(prompt)
    for position in range(prompt, tokens.numel() - 1):
        assert torch.equal(replayed.step(position), eager.step(position)), position
    assert replayed.graph is not None and replayed.checks_left == 0 and eager.graph is None


def test_the_eager_step_computes_the_models_forward(model, tokenizer):
    inputs = chat_inputs(tokenizer, "Hello there")
    tokens = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)[0]
    prompt = inputs["input_ids"].shape[1]
    with torch.no_grad():
        expected = model(tokens[None]).logits[0].float()
    decoder = fast_decode.Decoder(model, fast_decode.bucket(tokens.numel()))
    decoder.ids[0, : tokens.numel()] = tokens
    torch.testing.assert_close(decoder.prefill(prompt)[0], expected[prompt - 1], rtol=1e-4, atol=1e-4)
    for position in range(prompt, tokens.numel()):
        torch.testing.assert_close(decoder.step(position)[0], expected[position], rtol=1e-4, atol=1e-4)


class HostPosition(Decoder):
    """Writes the position into the step from the host: a graph would keep the capture's value."""

    def step(self, position):
        self.host_position = position
        return super().step(position)

    def _step(self):
        self.position.fill_(self.host_position)
        return super()._step()


class HostRead(Decoder):
    """Reads the position on the host inside the step (a graph cannot; on a GPU capture fails)."""

    def _step(self):
        self.position.fill_(int(self.position.item()))
        return super()._step()


class HostTensor(HostPosition):
    """Makes a tensor from a host value inside the step: a graph keeps the value it had at capture."""

    def _step(self):
        self.position.copy_(torch.tensor([self.host_position]))
        return Decoder._step(self)


class Counter(Decoder):
    """Counts its calls in Python and scales the logits by it: a graph keeps the first scale."""

    calls = 0

    def _step(self):
        self.calls += 1
        return super()._step() * (1.0 + 0.5 * (self.calls % 2))


@pytest.mark.parametrize("planted", [HostPosition, HostRead, HostTensor, Counter])
def test_a_capture_unsafe_step_is_caught_and_the_answer_stays_right(model, tokenizer, monkeypatch, messages, planted):
    """Each planted step decides something on the host: replayed as a graph it would compute something else. The
    checks must catch it and decode eagerly, giving what the planted step gives eagerly."""
    inputs = chat_inputs(tokenizer, "Hello there")
    monkeypatch.setattr(fast_decode, "Decoder", planted)
    monkeypatch.setattr(fast_decode, "POOL", fast_decode.Pool(False))
    eager = fast_decode.generate(model, **inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    assert not messages, "no graph, nothing to check"
    monkeypatch.setattr(fast_decode, "POOL", fast_decode.Pool(cuda_graphs.EmulatedGraph))
    answer = fast_decode.generate(model, **inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    assert any("CaptureError" in line and "decoding eagerly" in line for line in messages), messages
    assert torch.equal(answer, eager)
    if planted is not Counter:  # the others compute the model, whatever they decide on the host
        assert torch.equal(answer, model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False))


@pytest.mark.parametrize("planted", [HostPosition, HostTensor, Counter])
def test_without_the_checks_a_capture_unsafe_step_replays_wrong(model, tokenizer, planted):
    """What the checks are for: replayed unchecked, a planted step's graph gives other logits than the eager step."""
    inputs = chat_inputs(tokenizer, "Hello there")
    prompt = inputs["input_ids"].shape[1]
    tokens = model.generate(**inputs, max_new_tokens=8, do_sample=False)[0]
    unchecked, eager = planted(model, 256, cuda_graphs.EmulatedGraph), planted(model, 256, False)
    for decoder in (unchecked, eager):
        decoder.ids[0, : tokens.numel()] = tokens
        decoder.prefill(prompt)
        decoder.step(prompt)  # the capture, for the unchecked one
    unchecked.checks_left = 0  # trust the graph without checking it
    wrong = [not torch.allclose(unchecked.step(position), eager.step(position))
             for position in range(prompt + 1, tokens.numel() - 1)]  # fmt: skip
    assert any(wrong)


def test_an_architecture_it_does_not_handle_runs_transformers_loop(tokenizer, messages):
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=32, n_layer=2, n_head=4,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=None)  # fmt: skip
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config).eval()
    inputs = chat_inputs(tokenizer, "Hello there")
    expected = model.generate(**inputs, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False)
    answer = fast_decode.generate(model, **inputs, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                  do_sample=False)  # fmt: skip
    assert torch.equal(answer, expected)
    assert any("'gpt2' architecture is not handled" in line for line in messages), messages


@pytest.mark.parametrize("model_type", ["qwen2", "qwen3", "mistral"])
def test_the_other_architectures_it_handles_give_generates_tokens(tokenizer, graph, model_type):
    from transformers import AutoConfig

    config = AutoConfig.for_model(model_type, vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                                  max_position_embeddings=1024, initializer_range=0.5, tie_word_embeddings=True,
                                  attention_bias=model_type == "qwen2", sliding_window=None, eos_token_id=None,
                                  bos_token_id=tokenizer.bos_token_id)  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).eval()
    inputs = chat_inputs(tokenizer, LONG_MESSAGE)
    expected = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)
    assert torch.equal(fast_decode.generate(model, **inputs, max_new_tokens=NEW_TOKENS, do_sample=False), expected)


def test_requests_in_threads_get_decoders_of_their_own(model, tokenizer, graph):
    """Off ZeroGPU, requests run in threads of one process: none may read another's cache or ids."""
    requests = [chat_inputs(tokenizer, f"Hello number {number} " * (1 + number % 3)) for number in range(8)]
    alone = [model.generate(**inputs, max_new_tokens=24, do_sample=False) for inputs in requests]
    together: list = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def answer(number):
        start.wait()
        together[number] = fast_decode.generate(model, **requests[number], max_new_tokens=24, do_sample=False)

    threads = [threading.Thread(target=answer, args=(number,)) for number in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(torch.equal(mine, theirs) for mine, theirs in zip(together, alone, strict=True))


def test_a_decoder_is_reused_clean_and_only_where_its_weights_still_are(model):
    pool = fast_decode.Pool(False)
    with pool.decoder(model, 256) as first:
        first.ids.fill_(7)
        first.cache[0][0].fill_(1.0)
    with pool.decoder(model, 256) as again:
        assert again is first and not again.ids.any() and not again.cache[0][0].any()
    first.fingerprint = (-1, ())  # as if the weights had moved, or this were another process
    with pool.decoder(model, 256) as fresh:
        assert fresh is not first
    with contextlib.ExitStack() as stack:  # two at once: two decoders
        one, two = (stack.enter_context(pool.decoder(model, 256)) for _ in range(2))
        assert one is not two
    assert len(pool.idle) <= fast_decode.IDLE_DECODERS


def _idle_after_fork(queue) -> None:
    queue.put(len(fast_decode.POOL.idle))


def test_a_forked_worker_starts_with_no_decoders(model):
    """As ZeroGPU forks a worker per cold call: graphs and device memory never cross a fork."""
    with fast_decode.POOL.decoder(model, 256):
        pass
    assert fast_decode.POOL.idle
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_idle_after_fork, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert queue.get(timeout=10) == 0


def test_cache_lengths_come_in_buckets():
    assert [fast_decode.bucket(n) for n in (1, 256, 257, 4096 + 2048)] == [256, 256, 512, 6144]
