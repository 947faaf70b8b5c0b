"""Pick a prebuilt flash-attn wheel for a ZeroGPU Space, or check one the user pasted.

A wheel fits a Space when it is built for linux_x86_64, its cpXY is the Space's Python, its `torchX.Y` is the
major.minor of the pinned torch, its `cuNN` is the CUDA major of that torch on PyPI (12 up to torch 2.10, 13 from
2.11), and it is `cxx11abiTRUE` for torch >= 2.7. Picked wheels come only from PUBLISHED_WHEELS: file names really
published on the flash-attention GitHub releases, never names built from the pattern.
"""

from __future__ import annotations

import re
import runpy
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from jinja2.ext import Extension
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

RELEASES_URL = "https://github.com/Dao-AILab/flash-attention/releases/download"
SPACE_PLATFORM = "linux_x86_64"
PLATFORM_MARKER = "sys_platform == 'linux' and platform_machine == 'x86_64'"

# The template's choices (copier.yml): the versions ZeroGPU supports, from template/zerogpu/platform.py (loaded by
# path, as copier-template-extensions loads this file: extensions/platform_facts.py reads the same file).
_PLATFORM = runpy.run_path(str(Path(__file__).resolve().parent.parent / "template" / "zerogpu" / "platform.py"))
ZEROGPU_PYTHON_VERSIONS = tuple(sorted(_PLATFORM["PYTHONS"], key=Version))
ZEROGPU_TORCH_VERSIONS = tuple(_PLATFORM["TORCH_VERSIONS"])

# torch from PyPI: CUDA 12 builds up to 2.10.0, CUDA 13 from 2.11.0; the C++11 ABI from 2.7 on.
FIRST_CUDA_13_TORCH = Version("2.11")
FIRST_CXX11_ABI_TORCH = Version("2.7")

# The local version label of a flash-attn wheel, e.g. "cu12torch2.8cxx11abitrue" (packaging lowercases it).
BUILD_LABEL = re.compile(r"cu(?P<cuda>\d+)torch(?P<torch>\d+\.\d+)cxx11abi(?P<abi>true|false)")

# Real asset names of https://github.com/Dao-AILab/flash-attention/releases, by release tag. Linux x86_64, torch
# 2.8 and later only (ZeroGPU's range). Add a name only with evidence that the asset exists: asset names differ
# between releases, and a newer release can have fewer wheels than an older one.
PUBLISHED_WHEELS: dict[str, tuple[str, ...]] = {
    # v2.8.3.post1: the tag's publish.yml is v2.8.3's (python 3.9-3.13 x torch 2.4-2.8 x both ABIs, cu12), read at
    # the tag (/work/shared/reference/hf-spaces-notes.md, section 2). Its 50 assets, enumerated through the GitHub
    # API by BBC-Esq/Torch-CUDA-Compatibility-Checker (COMPATIBILITY.py P6/P8, test_compatibility.py
    # flash_attention_linux): 48 "2.8.3.post1+cu12..." wheels plus two cu13torch2.9 cp312 wheels (x86_64, aarch64)
    # still named "2.8.3+"; no cu12torch2.9 and no torch2.10. Public scripts install the cp310/cp312 torch2.8
    # wheels of both ABIs and v2.8.3.post1/flash_attn-2.8.3+cu13torch2.9cxx11abiTRUE-cp312 from this release; a
    # pip log of "v2.8.3.post1/...cu13torch2.11...cp312" says "Precompiled wheel not found".
    "v2.8.3.post1": (
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE-cp39-cp39-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE-cp310-cp310-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE-cp311-cp311-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE-cp313-cp313-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiFALSE-cp39-cp39-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiFALSE-cp310-cp310-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiFALSE-cp311-cp311-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiFALSE-cp312-cp312-linux_x86_64.whl",
        "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiFALSE-cp313-cp313-linux_x86_64.whl",
        "flash_attn-2.8.3+cu13torch2.9cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
    ),
    # v2.8.3: the torch2.8 wheels (both ABIs, cp39-cp313) and cu12torch2.9 cp312 are listed with their sha256 in a
    # Nix file generated from this release's assets ("Source: .../flash-attention/releases", found through the code
    # search); its cu12torch2.9 x86_64 hash (4e2f9e39...) matches a "#sha256=" pin of the same URL in another
    # project's install script. BBC-Esq/Torch-CUDA-Compatibility-Checker counts 53 assets: the publish.yml matrix
    # (48) plus cp312-only wheels added after the tag: cu12torch2.9 (x86_64, aarch64), cu13torch2.9 (x86_64),
    # cu13torch2.10 (x86_64, aarch64). Install scripts pin cu13torch2.9 and cu13torch2.10 cp312 by sha256 too.
    # Dao-AILab/flash-attention#2212 (no cp311 cu12torch2.9) and #2248/#2299 (no cu12torch2.10) confirm the gaps.
    "v2.8.3": (
        "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp39-cp39-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp310-cp310-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp311-cp311-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp313-cp313-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiFALSE-cp39-cp39-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiFALSE-cp310-cp310-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiFALSE-cp311-cp311-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiFALSE-cp312-cp312-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.8cxx11abiFALSE-cp313-cp313-linux_x86_64.whl",
        "flash_attn-2.8.3+cu12torch2.9cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "flash_attn-2.8.3+cu13torch2.9cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "flash_attn-2.8.3+cu13torch2.10cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
    ),
}


@dataclass(frozen=True)
class FlashAttnWheel:
    """What a flash-attn wheel's file name says about the environment it needs."""

    file_name: str
    version: Version
    cuda_major: int
    torch_minor: str
    cxx11_abi: bool
    python_tag: str
    platform: str


@dataclass(frozen=True)
class PublishedWheel:
    """A wheel of PUBLISHED_WHEELS with the release it belongs to."""

    release: str
    wheel: FlashAttnWheel

    @property
    def url(self) -> str:
        return f"{RELEASES_URL}/{self.release}/{self.wheel.file_name}"


def parse_flash_attn_wheel(file_name: str) -> FlashAttnWheel:
    """Read a flash-attn wheel file name; a ValueError says what is wrong with it."""
    try:
        name, version, _build, tags = parse_wheel_filename(file_name)
    except InvalidWheelFilename as error:
        raise ValueError(f"'{file_name}' is not a valid wheel file name ({error}).") from None
    if name != "flash-attn":
        raise ValueError(f"'{file_name}' is a wheel of {name}, not of flash_attn.")
    label = BUILD_LABEL.fullmatch(version.local or "")
    if label is None:
        raise ValueError(
            f"'{file_name}' has no build label like '+cu12torch2.8cxx11abiTRUE' after its version, so the CUDA, "
            "torch and C++ ABI it was built for are unknown."
        )
    if len(tags) != 1:
        raise ValueError(f"'{file_name}' carries several tags; a flash-attn wheel names one Python and one platform.")
    (tag,) = tags
    return FlashAttnWheel(
        file_name=file_name,
        version=version,
        cuda_major=int(label["cuda"]),
        torch_minor=label["torch"],
        cxx11_abi=label["abi"] == "true",
        python_tag=tag.interpreter,
        platform=tag.platform,
    )


def _release(version: str, what: str, example: str) -> tuple[int, ...]:
    try:
        release = Version(str(version)).release
    except InvalidVersion:
        release = ()
    if len(release) < 2:
        raise ValueError(f"The {what} {version!r} is not a version number like {example}.")
    return release


def python_tag(python_version: str) -> str:
    """'3.12' (or '3.12.12') -> 'cp312'."""
    major, minor = _release(python_version, "Python version", "'3.12'")[:2]
    return f"cp{major}{minor}"


def torch_minor(torch_version: str) -> str:
    """'2.10.0' -> '2.10'."""
    major, minor = _release(torch_version, "torch version", "'2.8.0'")[:2]
    return f"{major}.{minor}"


def pypi_torch_cuda_major(torch_version: str) -> int:
    """The CUDA major of the torch build that `pip install torch==X` gets from PyPI on Linux."""
    return 13 if Version(torch_minor(torch_version)) >= FIRST_CUDA_13_TORCH else 12


def pypi_torch_cxx11_abi(torch_version: str) -> bool:
    """Whether torch from PyPI is built with the C++11 ABI (yes from torch 2.7 on)."""
    return Version(torch_minor(torch_version)) >= FIRST_CXX11_ABI_TORCH


def _abi_name(cxx11_abi: bool) -> str:
    return "cxx11abiTRUE" if cxx11_abi else "cxx11abiFALSE"


def wheel_problem(wheel: FlashAttnWheel, python_version: str, torch_version: str) -> str:
    """Why a wheel does not fit a Space with this Python and torch from PyPI; "" when it fits."""
    name = wheel.file_name
    space_python_tag = python_tag(python_version)
    space_torch_minor = torch_minor(torch_version)
    cuda_major = pypi_torch_cuda_major(torch_version)
    cxx11_abi = pypi_torch_cxx11_abi(torch_version)
    if wheel.platform != SPACE_PLATFORM:
        return f"{name} is built for {wheel.platform}, but Spaces run on Linux x86_64 and need a linux_x86_64 wheel."
    if wheel.python_tag != space_python_tag:
        return (
            f"{name} is built for {wheel.python_tag}, but the Space runs Python {python_version} and needs a "
            f"{space_python_tag} wheel."
        )
    if wheel.torch_minor != space_torch_minor:
        return (
            f"{name} is built for torch {wheel.torch_minor}, but the Space pins torch {torch_version} and needs a "
            f"torch{space_torch_minor} wheel."
        )
    if wheel.cuda_major != cuda_major:
        return (
            f"{name} is built for CUDA {wheel.cuda_major}, but torch {torch_version} from PyPI is a CUDA "
            f"{cuda_major} build and needs a cu{cuda_major} wheel."
        )
    if wheel.cxx11_abi != cxx11_abi:
        return (
            f"{name} is built with {_abi_name(wheel.cxx11_abi)}, but torch {torch_version} from PyPI is built with "
            f"{_abi_name(cxx11_abi)} (the C++11 ABI is used from torch 2.7 on)."
        )
    return ""


def _published_wheels() -> list[PublishedWheel]:
    """PUBLISHED_WHEELS parsed, newest release first."""
    published = [
        PublishedWheel(release, parse_flash_attn_wheel(file_name))
        for release, file_names in PUBLISHED_WHEELS.items()
        for file_name in file_names
    ]
    return sorted(published, key=lambda entry: Version(entry.release), reverse=True)


PUBLISHED = _published_wheels()


def fitting_published_wheels(python_version: str, torch_version: str) -> list[PublishedWheel]:
    """The published wheels that fit, newest release first."""
    return [entry for entry in PUBLISHED if not wheel_problem(entry.wheel, python_version, torch_version)]


def torch_versions_with_wheels(python_version: str) -> list[str]:
    """The ZeroGPU torch versions that have a published wheel for this Python."""
    return [torch for torch in ZEROGPU_TORCH_VERSIONS if fitting_published_wheels(python_version, torch)]


def python_versions_with_wheels(torch_version: str) -> list[str]:
    """The ZeroGPU Python versions that have a published wheel for this torch."""
    return [python for python in ZEROGPU_PYTHON_VERSIONS if fitting_published_wheels(python, torch_version)]


def _no_published_wheel_message(python_version: str, torch_version: str) -> str:
    cuda_major = pypi_torch_cuda_major(torch_version)
    abi = _abi_name(pypi_torch_cxx11_abi(torch_version))
    needs = f"{python_tag(python_version)}, torch{torch_minor(torch_version)}, cu{cuda_major}, {abi}, linux_x86_64"
    parts = [f"No published flash-attn wheel fits Python {python_version} with torch {torch_version} ({needs})."]
    working_torch = torch_versions_with_wheels(python_version)
    if working_torch:
        parts.append(f"With Python {python_version}, these torch versions have one: {', '.join(working_torch)}.")
    else:
        parts.append(f"With Python {python_version}, no ZeroGPU torch version has one.")
    working_python = python_versions_with_wheels(torch_version)
    if working_python:
        parts.append(f"With torch {torch_version}, these Python versions have one: {', '.join(working_python)}.")
    else:
        parts.append(f"With torch {torch_version}, no ZeroGPU Python version has one.")
    near_misses = [
        entry.wheel
        for entry in PUBLISHED
        if entry.wheel.python_tag == python_tag(python_version)
        and entry.wheel.torch_minor == torch_minor(torch_version)
        and entry.wheel.platform == SPACE_PLATFORM
    ]
    if near_misses:
        problem = wheel_problem(near_misses[0], python_version, torch_version)
        parts.append(f"The closest published one does not fit: {problem}")
    parts.append("Pick one of those, or paste the URL of a flash-attn wheel built for this combination.")
    return " ".join(parts)


# Query parameters that carry a credential: tokens, API keys, signed-URL signatures (S3's X-Amz-*, Azure's sig).
CREDENTIAL_PARAMETER = re.compile(r"token|auth|key|sig|secret|passw|credential|session|x-amz-", re.IGNORECASE)
HUB_TOKEN = re.compile(r"hf_[A-Za-z0-9]{6,}")


def redacted(url: str) -> str:
    """The URL as it may be shown: without a user name or password, its query, its fragment or Hub tokens. Whatever
    comes before the last "@" goes, wherever it is: in a malformed URL ("https://#@host/...") a parser finds no user
    info, yet another tool may take that part for it."""
    scheme, separator, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    parts = urlsplit(scheme + separator + rest)
    shown = parts._replace(query="***" if parts.query else "", fragment="***" if parts.fragment else "")
    return HUB_TOKEN.sub("hf_***", shown.geturl())


def credential_problem(url: str) -> str:
    """Why the URL carries a credential ("" when it does not): it would be written into pyproject.toml, uv.lock,
    requirements.txt and .copier-answers.yml, all pushed with the Space."""
    parts = urlsplit(url)
    where = ""
    if "@" in parts.netloc:
        where = "a user name or password"
    elif any(CREDENTIAL_PARAMETER.search(name) for name, _ in parse_qsl(parts.query, True)):
        where = "a token or signature in its query"
    elif HUB_TOKEN.search(url):
        where = "a Hugging Face token"
    if not where:
        return ""
    return (
        f"The flash-attn wheel URL {redacted(url)} carries {where}: it would be written into pyproject.toml, uv.lock, "
        "requirements.txt and .copier-answers.yml, and pushed with the Space. Give a URL that downloads without "
        "credentials (a GitHub release asset, or a file in a public Hub repo)."
    )


def pasted_wheel(wheel_url: str) -> FlashAttnWheel:
    """Read a pasted wheel URL: https, without credentials, ending in a flash_attn wheel file name. A ValueError says
    what is wrong, showing the URL redacted (an error message ends up in logs)."""
    url = wheel_url.strip()
    if problem := credential_problem(url):
        raise ValueError(problem)
    if any(character.isspace() for character in url):
        raise ValueError(f"The flash-attn wheel URL {redacted(url)!r} contains spaces; paste the URL alone.")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"The flash-attn wheel URL {redacted(url)!r} must be an https:// address.")
    file_name = unquote(parts.path.rsplit("/", 1)[-1])
    if not file_name.endswith(".whl"):
        raise ValueError(f"The flash-attn wheel URL {redacted(url)!r} must end with a wheel file name (….whl).")
    return parse_flash_attn_wheel(file_name)


def flash_attn_wheel_url(python_version: str, torch_version: str, wheel_url: str = "") -> str:
    """The wheel URL to install: the pasted one once checked, else the newest published wheel that fits."""
    python_version, torch_version, wheel_url = str(python_version), str(torch_version), str(wheel_url or "").strip()
    if wheel_url:
        problem = wheel_problem(pasted_wheel(wheel_url), python_version, torch_version)
        if problem:
            raise ValueError(problem)
        return wheel_url
    fitting = fitting_published_wheels(python_version, torch_version)
    if not fitting:
        raise ValueError(_no_published_wheel_message(python_version, torch_version))
    return fitting[0].url


def flash_attn_requirement(python_version: str, torch_version: str, wheel_url: str = "") -> str:
    """The requirements.txt line for flash-attn, limited to Linux x86_64."""
    return f"flash-attn @ {flash_attn_wheel_url(python_version, torch_version, wheel_url)} ; {PLATFORM_MARKER}"


def flash_attn_error(python_version: str, torch_version: str, wheel_url: str = "") -> str:
    """A Copier validator: "" when a flash-attn wheel fits (pasted or published), else why not."""
    try:
        flash_attn_wheel_url(python_version, torch_version, wheel_url)
    except ValueError as error:
        return str(error)
    return ""


class FlashAttnExtension(Extension):
    """Registers the functions above as Jinja globals and filters."""

    def __init__(self, environment):
        super().__init__(environment)
        functions = {
            "flash_attn_error": flash_attn_error,
            "flash_attn_wheel_url": flash_attn_wheel_url,
            "flash_attn_requirement": flash_attn_requirement,
            "torch_versions_with_wheels": torch_versions_with_wheels,
            "python_versions_with_wheels": python_versions_with_wheels,
        }
        environment.globals.update(functions)
        environment.filters.update(functions)
