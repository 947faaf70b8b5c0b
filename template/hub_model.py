"""Where app.py's model comes from, and what to do when it cannot be had.

`require(MODEL_ID)` returns at once when MODEL_ID is a local folder or a model the Hub answers for; otherwise it stops
the app with a message that says how to run it anyway. On the Hub the model is always reachable: this is for running
app.py on your own machine, where huggingface_hub would otherwise retry for a minute and end in an OSError that names
neither MODEL_ID nor a way out.

This file is owned by the template (`copier update` keeps it current).
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

TINY_MODEL_COMMAND = "uv run tests/tiny_model.py tiny-model"
WAYS_OUT = f"""To run the app without the Hub:
  {TINY_MODEL_COMMAND}   # a tiny random model of the same architecture, built here
  MODEL_ID=tiny-model uv run app.py
or set MODEL_ID to a folder that holds the model, or, for a model in your Hugging Face cache, set HF_HUB_OFFLINE=1."""


class ModelUnavailable(SystemExit):
    """Stops the app (exit status 1) with what is wrong with MODEL_ID and what to do."""

    def __init__(self, problem: str, ways_out: str = WAYS_OUT):
        super().__init__(f"app.py cannot load its model: {problem}\n{ways_out}")


def is_cached(model_id: str) -> bool:
    try:
        snapshot_download(model_id, local_files_only=True)
    except LocalEntryNotFoundError:
        return False
    return True


def require(model_id: str) -> None:
    """Return if `model_id` can be loaded: a local folder, a model the Hub has, or, offline, one in the cache."""
    if Path(model_id).is_dir():
        return
    if constants.HF_HUB_OFFLINE:
        if not is_cached(model_id):
            raise ModelUnavailable(f"HF_HUB_OFFLINE is set and MODEL_ID={model_id} is not in your Hugging Face cache.")
        return
    try:
        HfApi().model_info(model_id, timeout=10)  # one request, no retries: without a network it fails at once
    except GatedRepoError as error:
        raise ModelUnavailable(f"MODEL_ID={model_id} is gated on the Hub.", "Accept its terms on its page, then log "
                               "in with `hf auth login` or set HF_TOKEN.") from error  # fmt: skip
    except RepositoryNotFoundError as error:
        raise ModelUnavailable(f"MODEL_ID={model_id} is not a model on the Hub (if it is private, log in with "
                               "`hf auth login` or set HF_TOKEN).") from error  # fmt: skip
    except HfHubHTTPError:
        return  # the Hub answered with another error: the download will say what it is
    except Exception as error:  # the Hub cannot be reached: the HTTP client's own errors (no DNS, refused, timeout)
        if is_cached(model_id):
            raise ModelUnavailable(f"the Hub cannot be reached ({error}).", f"MODEL_ID={model_id} is in your Hugging "
                                   "Face cache: run with HF_HUB_OFFLINE=1 to load it from there.") from error  # fmt: skip
        raise ModelUnavailable(f"the Hub cannot be reached ({error}) to download MODEL_ID={model_id}, and it is not in "
                               "your Hugging Face cache.") from error  # fmt: skip
