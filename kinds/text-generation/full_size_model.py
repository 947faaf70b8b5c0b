"""The default model's architecture at its real size, with random weights, for the GPU benchmarks
(benchmarks/gpu/calibrate_on_gpu.py, through this kind's calibrate_on_gpu.py, and its fast_path_on_gpu.py): time
does not depend on the values. Never rendered into a Space.
"""

from pathlib import Path
from typing import Any

# HuggingFaceTB/SmolLM2-1.7B-Instruct's config.json (a Llama): 24 layers of 2048 with 32 heads (no GQA), an MLP of
# 8192, a 49152-token vocabulary with tied embeddings; 1.71 B parameters.
SMOLLM2_1_7B = {
    "vocab_size": 49152,
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 24,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "max_position_embeddings": 8192,
    "rope_theta": 130000.0,
    "rms_norm_eps": 1e-5,
    "tie_word_embeddings": True,
    "hidden_act": "silu",
}
# --smoke: the same code on CPU, shrunk (never for numbers).
SMOKE = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 4}  # fmt: skip
TOKEN_IDS = {"bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 2}


def model(device, dtype, smoke: bool) -> Any:
    """The Llama in memory, seeded (the fast-path benchmark compares runs of the same weights)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**SMOLLM2_1_7B, **TOKEN_IDS) if not smoke else LlamaConfig(**{**SMOLLM2_1_7B, **SMOKE},
                                                                                     **TOKEN_IDS)  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):
        built = LlamaForCausalLM(config).to(dtype).eval()
    built.generation_config = GenerationConfig(**TOKEN_IDS)
    return built


def build(directory: Path, device, smoke: bool) -> float:
    """A random-weight SmolLM2-1.7B-Instruct with a 49152-token byte-level tokenizer, saved as the Hub holds it (the
    Space's tests/ on sys.path, for its chat template); returns billions of parameters."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from tiny_model import CHAT_TEMPLATE

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: index for index, token in enumerate(specials + sorted(alphabet))}
    for index in range(len(vocab), SMOLLM2_1_7B["vocab_size"]):
        vocab[f"Ġw{index}"] = index  # whole words, so that every id the model draws decodes to text, as in SmolLM2
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.add_special_tokens(specials)
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=specials[0], eos_token=specials[2],
                                        pad_token=specials[2], unk_token=specials[0], model_max_length=8192)  # fmt: skip
    tokenizer.chat_template = CHAT_TEMPLATE
    built = model(device, torch.bfloat16 if device.type == "cuda" else torch.float32, smoke)
    built.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return sum(p.numel() for p in built.parameters()) / 1e9
