"""Compile the app's UNet ahead of time, once, and upload the package to a Hub repo that app.py loads at start-up.

    uv run scripts/compile_unet.py your-username/my-space-unet-aoti   # compile, then upload to that model repo
    uv run scripts/compile_unet.py --out unet-aoti                    # compile into a folder, upload nothing

Run it on ZeroGPU or on a machine with an NVIDIA GPU of ZeroGPU's architecture (RTX PRO 6000 Blackwell, sm_120) and
the Space's own lock: a package holds kernels for one GPU architecture and one torch. MODEL_ID picks the model, as
for the app. The upload uses your Hugging Face login (`hf auth login`, or HF_TOKEN in the environment); the token is
never written anywhere. Then point the Space at the repo: `copier update --trust --defaults --data aoti_repo=<repo>`,
or the Space variable AOTI_REPO. If the package ever fails to load, the app logs why and compiles at start-up.
"""

import spaces  # ZeroGPU: imported before torch, so that it can take over CUDA
from spaces.zero.torch.aoti import PACKAGE_DIRNAME as PACKAGE_DIR  # the repo folder that spaces.aoti_load downloads

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from huggingface_hub import HfApi
from huggingface_hub.utils import HFValidationError, validate_repo_id

SPACE_DIR = Path(__file__).resolve().parent.parent


def compile_package(app, repo_dir: Path) -> Path:
    """Compile the app's UNet, exported as the app exports it, into repo_dir/package (spaces' layout)."""
    package_dir = repo_dir / PACKAGE_DIR
    aoti_unet = app.aoti_unet  # the app's own AoTI module: one export, one place

    @spaces.GPU(duration=aoti_unet.COMPILE_SECONDS)  # on ZeroGPU; elsewhere it runs here, on the GPU
    def compile_and_save():
        spaces.aoti_compile_and_save(package_dir, aoti_unet.export(app.pipe, app.MIN_SIDE, app.MAX_SIDE))

    compile_and_save()
    return package_dir


def upload(repo_dir: Path, repo_id: str, api: HfApi) -> str:
    """Upload repo_dir/package to the model repo repo_id (made if missing); returns the commit's URL."""
    api.create_repo(repo_id, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id,
        folder_path=repo_dir / PACKAGE_DIR,
        path_in_repo=PACKAGE_DIR,
        commit_message="AoTI package of the Space's UNet (scripts/compile_unet.py)",
    )
    return str(getattr(commit, "commit_url", commit))


def import_app():
    """app.py, with its start-up AoTI step off (AOTI=off): this script compiles instead."""
    os.environ["AOTI"] = "off"
    sys.path.insert(0, str(SPACE_DIR))
    import app

    return app


def main(argv: list[str] | None = None, api: HfApi | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo_id", nargs="?", help="the Hub model repo to upload the package to (owner/name)")
    parser.add_argument("--out", type=Path, help="compile into this folder (as the repo's layout) and upload nothing")
    args = parser.parse_args(argv)
    if (args.repo_id is None) == (args.out is None):
        parser.error("give a repo id to upload to, or --out FOLDER, not both")
    if args.repo_id is not None:
        try:
            validate_repo_id(args.repo_id)
        except HFValidationError as error:
            parser.error(f"{args.repo_id!r} is not a Hub repo id: {error}")
    if not (spaces.config.Config.zero_gpu or torch.cuda.is_available()):
        sys.exit("compile_unet.py needs ZeroGPU or an NVIDIA GPU: a package compiled on CPU runs on CPU only.")
    app = import_app()
    with tempfile.TemporaryDirectory() as scratch:
        repo_dir = args.out or Path(scratch)
        started = time.perf_counter()
        package_dir = compile_package(app, repo_dir)
        print(f"Compiled the UNet into {package_dir} in {time.perf_counter() - started:.0f} s.")
        if args.repo_id is not None:
            url = upload(repo_dir, args.repo_id, api or HfApi())
            print(f"Uploaded to {args.repo_id} ({url}): set aoti_repo (or the Space variable AOTI_REPO) to it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
