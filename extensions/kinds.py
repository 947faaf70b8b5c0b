"""The app kinds a Space can be, read from `kinds/<name>/kind.yml` beside this template.

Adding a kind means adding a folder there (kind.yml, app.py.jinja, tiny_model.py, test_app.py, durations.json,
calibration.py with calibrate's plan for each of the app's handlers; with `fast_path`, that module and its tests,
test_<module>; with `aoti`, its AoTI module, test_<module> and compile script; the files `assets` lists): the
question's choices, the defaults and the includes all come from this registry. The folder also holds the kind's parts of the repository's
own checks, never rendered: browser_checks.py (tests/test_browser.py), emulate_probe.py, full_size_model.py,
calibrate_on_gpu.py and, with a fast path, fast_path_on_gpu.py (the GPU benchmarks, benchmarks/gpu/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from jinja2.ext import Extension

DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")  # Debian policy 5.6.1: what packages.txt may name
KINDS_DIR = Path(__file__).resolve().parent.parent / "kinds"
KIND_FILES = ("kind.yml", "app.py.jinja", "tiny_model.py", "test_app.py", "durations.json", "calibration.py")
# Never rendered into a Space: the kind's parts of the repository's browser tests and GPU benchmarks.
KIND_PARTS = ("browser_checks.py", "emulate_probe.py", "full_size_model.py", "calibrate_on_gpu.py")
KIND_KEYS = (
    "label",
    "model_id",
    "short_description",
    "emoji",
    "writes_files",
    "chat_interface",
    "python_versions",
    "python_refused_because",
    "gradio_versions",
    "dependencies",
    "attention",
    "first_call",
    "largest_request",
)
# Keys a kind.yml may leave out, and what leaving one out means.
OPTIONAL_KEYS = {
    "fast_path": None,  # the template-owned module that replays the model's step from CUDA graphs (and its tests)
    "aoti": False,  # {module, script}: the denoiser compiled ahead of time (the `aoti` question)
    "mcp": True,  # whether the `mcp` question is asked (false: the app's inputs do not reach an MCP client)
    "system_packages": [],  # Debian packages the app needs: the Space's packages.txt, installed by the Space builder
    "assets": [],  # files of the kind folder (examples/...) seeded byte for byte into the Space at the same path
}


def load_kinds(kinds_dir: Path = KINDS_DIR) -> dict[str, dict]:
    """Each kind's metadata by name, in a stable order."""
    kinds = {}
    for kind_file in sorted(kinds_dir.glob("*/kind.yml")):
        missing = [name for name in KIND_FILES + KIND_PARTS if not (kind_file.parent / name).is_file()]
        if missing:
            raise FileNotFoundError(f"The app kind {kind_file.parent.name!r} lacks {', '.join(missing)}.")
        kind = OPTIONAL_KEYS | yaml.safe_load(kind_file.read_text(encoding="utf-8"))
        missing = [key for key in KIND_KEYS if key not in kind]
        modules = (kind["fast_path"], f"test_{kind['fast_path']}", "fast_path_on_gpu.py") if kind["fast_path"] else ()
        if kind.get("aoti"):  # the AoTI module, its tests and its compile script
            modules += (kind["aoti"]["module"], f"test_{kind['aoti']['module']}", kind["aoti"]["script"])
        missing += [name for name in modules + tuple(kind["assets"]) if not _is_file_within(kind_file.parent, name)]
        if missing or "sdpa" not in kind["attention"]:
            raise ValueError(f"{kind_file} lacks {', '.join(missing) or 'the sdpa attention backend'}.")
        bad = [name for name in kind["system_packages"] if not DEBIAN_PACKAGE.fullmatch(str(name))]
        if bad:
            raise ValueError(f"{kind_file}: system_packages {bad} are not Debian package names.")
        bad = [item for item in kind["first_call"]["data"] if isinstance(item, dict) and not _is_asset(item, kind)]
        if bad:
            raise ValueError(f"{kind_file}: first_call data {bad} must each be {{file: <one of its assets>}}.")
        kinds[kind_file.parent.name] = kind
    return kinds


def _is_asset(item: dict, kind: dict) -> bool:
    """Whether a first_call item is `{file: <path>}`, exactly, with the path one of the kind's assets."""
    return list(item) == ["file"] and item["file"] in kind["assets"]


def _is_file_within(folder: Path, name: str) -> bool:
    path = (folder / name).resolve()
    return path.is_relative_to(folder.resolve()) and path.is_file()


def default_kind(kinds_dir: Path = KINDS_DIR) -> str:
    """The kind whose kind.yml says `default: true`: the app_kind question's default."""
    defaults = [name for name, kind in load_kinds(kinds_dir).items() if kind.get("default") is True]
    if len(defaults) != 1:
        raise ValueError(f"Exactly one kind's kind.yml must say `default: true`; these do: {defaults}.")
    return defaults[0]


def kind_file(kind: str, name: str, kinds_dir: Path = KINDS_DIR) -> str:
    """The text of one of a kind's plain files (tiny_model.py, test_app.py), copied as is: never rendered as Jinja."""
    if name.endswith(".jinja"):
        raise ValueError(f"{name} is a template: include it instead.")
    return (kinds_dir / kind / name).read_text(encoding="utf-8")


def kind_durations(kind: str, gpu_size: str, kinds_dir: Path = KINDS_DIR) -> str:
    """The Space's durations.json: the kind's shipped coefficients for one GPU size, in the format that
    `python -m zerogpu.calibrate` writes (kinds/<kind>/durations.json holds one table per size)."""
    tables = json.loads((kinds_dir / kind / "durations.json").read_text(encoding="utf-8"))
    if gpu_size not in tables:
        raise ValueError(f"kinds/{kind}/durations.json has no coefficients for gpu_size {gpu_size!r}.")
    return json.dumps(tables[gpu_size], indent=2, ensure_ascii=False) + "\n"


def python_refusal(kind: str, python_version: str, kinds_dir: Path = KINDS_DIR) -> str:
    """Why the kind cannot run on `python_version` ("" if it can): the validator of that `python_version` choice,
    which Copier shows beside the choice and prints when it is passed with --data."""
    found = load_kinds(kinds_dir)[kind]
    if python_version in found["python_versions"]:
        return ""
    runs = " or ".join(found["python_versions"])
    return f"the {kind} app pins libraries that refuse Python {python_version} ({found['python_refused_because']}): use {runs}"


def mcp_refusal(kind: str, kinds_dir: Path = KINDS_DIR) -> str:
    """Why the kind cannot serve MCP ("" if it can): the `mcp` question's validator, for an answer given with --data."""
    if load_kinds(kinds_dir)[kind]["mcp"]:
        return ""
    return f"the {kind} app does not serve MCP (its kind.yml says `mcp: false`): answer mcp=false"


class KindsExtension(Extension):
    """Exposes the registry as the Jinja global `kinds` (and its `default_kind`), each kind's plain files through
    `kind_file`, its shipped duration coefficients through `kind_durations`, and its refusals of a Python and of MCP
    through `python_refusal` and `mcp_refusal`."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.globals.update(
            kinds=load_kinds(),
            default_kind=default_kind(),
            kind_file=kind_file,
            kind_durations=kind_durations,
            python_refusal=python_refusal,
            mcp_refusal=mcp_refusal,
        )
