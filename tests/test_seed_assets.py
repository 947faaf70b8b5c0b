"""tasks/seed_assets.py, the Copier task that seeds a Space with its kind's binary assets (kind.yml's `assets`)."""

import os
import subprocess
import sys

from conftest import TEMPLATE_DIR
from test_extensions import copy_kind_without_extras

from tasks import seed_assets


def test_assets_are_copied_byte_for_byte_and_never_overwritten(tmp_path):
    kinds_dir, space = tmp_path / "kinds", tmp_path / "space"
    kind = copy_kind_without_extras(kinds_dir, "assets: [examples/tone.wav, examples/deep/photo.png]\n")
    (kind / "examples" / "deep").mkdir(parents=True)
    for name in ("tone.wav", "deep/photo.png"):
        (kind / "examples" / name).write_bytes(os.urandom(4096))  # binary: Copier's rendering would mangle it
    written = seed_assets.seed("copy", space, kinds_dir)
    assert sorted(written) == sorted([space / "examples" / "tone.wav", space / "examples" / "deep" / "photo.png"])
    for name in ("tone.wav", "deep/photo.png"):
        assert (space / "examples" / name).read_bytes() == (kind / "examples" / name).read_bytes()
    edited = space / "examples" / "tone.wav"
    edited.write_bytes(b"the author's own")
    assert seed_assets.seed("copy", space, kinds_dir) == []
    assert edited.read_bytes() == b"the author's own"
    assert not list(space.rglob(".*.partial"))


def test_the_task_refuses_without_a_kind(tmp_path):
    done = subprocess.run([sys.executable, str(TEMPLATE_DIR / "tasks" / "seed_assets.py")], cwd=tmp_path,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode != 0 and "seed_assets.py <app_kind>" in done.stderr
