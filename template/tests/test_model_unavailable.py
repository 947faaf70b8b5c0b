"""Without its model, app.py stops at once and says what to do (hub_model.py), instead of retrying for a minute and
ending in a traceback: started as `uv run app.py` starts it, with the model on its card, the Hub out of reach (or
HF_HUB_OFFLINE set) and an empty Hugging Face cache."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub_model import TINY_MODEL_COMMAND

SPACE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "without",
    [{"HF_ENDPOINT": "http://127.0.0.1:9"}, {"HF_HUB_OFFLINE": "1"}],  # port 9: nothing listens, refused at once
    ids=["no-network", "offline"],
)
def test_the_app_stops_at_once_and_says_what_to_do(tmp_path, without):
    env = {key: value for key, value in os.environ.items() if key not in ("MODEL_ID", "HF_HUB_OFFLINE")}
    env |= {"HF_HOME": str(tmp_path / "empty-cache"), **without}
    run = subprocess.run(
        [sys.executable, "app.py"], cwd=SPACE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    said = run.stdout + run.stderr
    assert run.returncode == 1, said
    assert "app.py cannot load its model" in run.stderr, said
    for way_out in ("MODEL_ID=", "HF_HUB_OFFLINE", TINY_MODEL_COMMAND):
        assert way_out in run.stderr, f"the message must name {way_out}:\n{said}"
    assert "Retrying" not in said and "Traceback" not in said, said
