"""requirements.txt is what the Space builder needs: current with pyproject.toml, and flash-attn fitting torch."""

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

SPACE_DIR = Path(__file__).resolve().parent.parent


def requirements() -> dict[str, Requirement]:
    lines = (SPACE_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines()
    parsed = [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return {canonicalize_name(requirement.name): requirement for requirement in parsed}


def test_requirements_are_current_with_pyproject():
    drift = subprocess.run(
        [sys.executable, "-m", "zerogpu.export", "--check"],
        cwd=SPACE_DIR, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert drift.returncode == 0, drift.stderr


def test_flash_attn_wheel_fits_the_torch_pin_and_python():
    """A prebuilt flash-attn wheel only loads with the torch major.minor and the Python it was built for."""
    pinned = requirements()
    flash_attn = pinned.get("flash-attn")
    if flash_attn is None or not flash_attn.url:
        pytest.skip("requirements.txt has no flash-attn wheel")
    _, version, _, tags = parse_wheel_filename(flash_attn.url.rsplit("/", 1)[-1])
    (torch_pin,) = pinned["torch"].specifier
    torch_minor = ".".join(torch_pin.version.split(".")[:2])
    assert f"torch{torch_minor}" in (version.local or ""), f"{flash_attn.url} is not built for torch {torch_minor}"
    python = (SPACE_DIR / ".python-version").read_text().strip()
    assert {tag.interpreter for tag in tags} == {"cp" + python.replace(".", "")}, (
        f"{flash_attn.url} is not for {python}"
    )
