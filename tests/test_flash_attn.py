"""Tests of extensions/flash_attn.py: the published-wheel table, the selection rules and pasted wheel URLs."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from jinja2 import Environment
from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from extensions import flash_attn

RELEASES = "https://github.com/Dao-AILab/flash-attention/releases/download"
CAUSAL_CONV1D_RELEASES = "https://github.com/Dao-AILab/causal-conv1d/releases/download"
GOOD_NAME = "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
GOOD_FORK_URL = (
    "https://github.com/adithyaxx/flash-attention/releases/download/v2.8.3/"
    "flash_attn-2.8.3%2Bcu13torch2.11cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
)


# The table


@pytest.mark.parametrize("entry", flash_attn.PUBLISHED, ids=lambda entry: entry.wheel.file_name)
def test_table_entry_parses_and_matches_its_release(entry):
    name, version, build, tags = parse_wheel_filename(entry.wheel.file_name)
    assert name == "flash-attn"
    assert build == ()
    assert len(tags) == 1
    release = Version(entry.release)
    # Asset names carry the release's version, except v2.8.3.post1's cu13 wheels, which are named "2.8.3+".
    assert version.public in (release.public, release.base_version)
    assert entry.url == f"{RELEASES}/{entry.release}/{entry.wheel.file_name}"
    assert entry.wheel.platform == "linux_x86_64"
    assert entry.wheel.cuda_major in (12, 13)
    (tag,) = tags
    assert tag.abi == tag.interpreter == entry.wheel.python_tag


def test_table_has_no_duplicates_and_lists_newest_release_first():
    for file_names in flash_attn.PUBLISHED_WHEELS.values():
        assert len(file_names) == len(set(file_names))
    releases = [Version(entry.release) for entry in flash_attn.PUBLISHED]
    assert releases == sorted(releases, reverse=True)


@pytest.mark.parametrize("release", ["v2.8.3", "v2.8.3.post1"])
@pytest.mark.parametrize("abi", ["TRUE", "FALSE"])
@pytest.mark.parametrize("python", ["cp39", "cp310", "cp311", "cp312", "cp313"])
def test_table_covers_torch_2_8_on_every_python(release, abi, python):
    version = release.removeprefix("v")
    name = f"flash_attn-{version}+cu12torch2.8cxx11abi{abi}-{python}-{python}-linux_x86_64.whl"
    assert name in flash_attn.PUBLISHED_WHEELS[release]


# Picking a published wheel


def test_python_3_12_torch_2_8_picks_the_newest_release_with_the_wheel():
    url = flash_attn.flash_attn_wheel_url("3.12", "2.8.0")
    assert url == (
        f"{RELEASES}/v2.8.3.post1/flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
    )


def test_python_3_10_torch_2_8_picks_the_cp310_wheel():
    assert flash_attn.flash_attn_wheel_url("3.10", "2.8.0").endswith(
        "/v2.8.3.post1/flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE-cp310-cp310-linux_x86_64.whl"
    )


def test_torch_2_9_falls_back_to_the_older_release_that_has_it():
    assert flash_attn.flash_attn_wheel_url("3.12", "2.9.1") == (
        f"{RELEASES}/v2.8.3/flash_attn-2.8.3+cu12torch2.9cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
    )


def test_a_full_python_version_works_like_major_minor():
    assert flash_attn.flash_attn_wheel_url("3.12.12", "2.8.0") == flash_attn.flash_attn_wheel_url("3.12", "2.8.0")


@pytest.mark.parametrize("python_version", flash_attn.ZEROGPU_PYTHON_VERSIONS)
@pytest.mark.parametrize("torch_version", flash_attn.ZEROGPU_TORCH_VERSIONS)
def test_every_pick_follows_the_rules(python_version, torch_version):
    if flash_attn.flash_attn_error(python_version, torch_version):
        return
    wheel = flash_attn.pasted_wheel(flash_attn.flash_attn_wheel_url(python_version, torch_version))
    assert wheel.python_tag == "cp" + python_version.replace(".", "")
    assert wheel.torch_minor == torch_version.rsplit(".", 1)[0]
    assert wheel.cuda_major == (13 if Version(torch_version) >= Version("2.11") else 12)
    assert wheel.cxx11_abi is True
    assert wheel.platform == "linux_x86_64"


def test_working_versions():
    assert flash_attn.torch_versions_with_wheels("3.12") == ["2.8.0", "2.9.1"]
    assert flash_attn.torch_versions_with_wheels("3.10") == ["2.8.0"]
    assert flash_attn.python_versions_with_wheels("2.8.0") == list(flash_attn.ZEROGPU_PYTHON_VERSIONS)  # every one
    assert flash_attn.python_versions_with_wheels("2.9.1") == ["3.12"]
    assert flash_attn.python_versions_with_wheels("2.11.0") == []


def test_requirement_line_is_limited_to_linux_x86_64():
    line = flash_attn.flash_attn_requirement("3.12", "2.8.0")
    url = flash_attn.flash_attn_wheel_url("3.12", "2.8.0")
    assert line == f"flash-attn @ {url} ; sys_platform == 'linux' and platform_machine == 'x86_64'"
    requirement = Requirement(line)
    assert requirement.name == "flash-attn"
    assert requirement.url == url
    assert requirement.marker.evaluate({"sys_platform": "linux", "platform_machine": "x86_64"})
    assert not requirement.marker.evaluate({"sys_platform": "linux", "platform_machine": "aarch64"})
    assert not requirement.marker.evaluate({"sys_platform": "darwin", "platform_machine": "x86_64"})


# Refusing combinations without a published wheel


def test_torch_2_11_with_python_3_12_is_refused_naming_the_torch_versions_that_work():
    message = flash_attn.flash_attn_error("3.12", "2.11.0")
    assert "No published flash-attn wheel fits Python 3.12 with torch 2.11.0" in message
    assert "cu13" in message
    assert "these torch versions have one: 2.8.0, 2.9.1." in message
    assert "With torch 2.11.0, no ZeroGPU Python version has one." in message
    with pytest.raises(ValueError) as raised:
        flash_attn.flash_attn_wheel_url("3.12", "2.11.0")
    assert str(raised.value) == message
    with pytest.raises(ValueError):
        flash_attn.flash_attn_requirement("3.12", "2.11.0")


def test_torch_2_9_with_python_3_10_names_both_ways_out():
    message = flash_attn.flash_attn_error("3.10", "2.9.1")
    assert "With Python 3.10, these torch versions have one: 2.8.0." in message
    assert "With torch 2.9.1, these Python versions have one: 3.12." in message


def test_torch_2_10_explains_why_the_cu13_wheel_does_not_fit():
    message = flash_attn.flash_attn_error("3.12", "2.10.0")
    assert "these torch versions have one: 2.8.0, 2.9.1." in message
    assert "cu13torch2.10" in message
    assert "is a CUDA 12 build and needs a cu12 wheel" in message


@pytest.mark.parametrize("torch_version", ["2.12.1", "2.13.0"])
def test_newer_torch_is_refused(torch_version):
    message = flash_attn.flash_attn_error("3.12", torch_version)
    assert message.startswith(f"No published flash-attn wheel fits Python 3.12 with torch {torch_version}")
    assert "2.8.0, 2.9.1" in message


@pytest.mark.parametrize(
    ("python_version", "torch_version", "expected"),
    [("3", "2.8.0", "Python version '3'"), ("3.12", "latest", "torch version 'latest'")],
)
def test_malformed_versions_are_refused(python_version, torch_version, expected):
    assert expected in flash_attn.flash_attn_error(python_version, torch_version)


# Pasted wheel URLs


def test_a_good_pasted_url_is_used_as_is():
    assert flash_attn.flash_attn_error("3.12", "2.11.0", GOOD_FORK_URL) == ""
    assert flash_attn.flash_attn_wheel_url("3.12", "2.11.0", f"  {GOOD_FORK_URL}\n") == GOOD_FORK_URL
    line = flash_attn.flash_attn_requirement("3.12", "2.11.0", GOOD_FORK_URL)
    assert Requirement(line).url == GOOD_FORK_URL


def test_a_published_url_pasted_back_is_accepted():
    url = flash_attn.flash_attn_wheel_url("3.12", "2.9.1")
    assert flash_attn.flash_attn_error("3.12", "2.9.1", url) == ""


BAD_PASTED_URLS = {
    "wrong python": (
        "2.8.0",
        f"{RELEASES}/v2.8.3/flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp311-cp311-linux_x86_64.whl",
        "is built for cp311, but the Space runs Python 3.12 and needs a cp312 wheel",
    ),
    "wrong torch": (
        "2.8.0",
        f"{RELEASES}/v2.8.3/flash_attn-2.8.3+cu12torch2.9cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "is built for torch 2.9, but the Space pins torch 2.8.0 and needs a torch2.8 wheel",
    ),
    "cu13 with a CUDA 12 torch": (
        "2.9.1",
        f"{RELEASES}/v2.8.3/flash_attn-2.8.3+cu13torch2.9cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "is built for CUDA 13, but torch 2.9.1 from PyPI is a CUDA 12 build and needs a cu12 wheel",
    ),
    "cu12 with a CUDA 13 torch": (
        "2.11.0",
        "https://example.org/flash_attn-2.8.3+cu12torch2.11cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "is built for CUDA 12, but torch 2.11.0 from PyPI is a CUDA 13 build and needs a cu13 wheel",
    ),
    "old C++ ABI": (
        "2.8.0",
        f"{RELEASES}/v2.8.3/flash_attn-2.8.3+cu12torch2.8cxx11abiFALSE-cp312-cp312-linux_x86_64.whl",
        "is built with cxx11abiFALSE, but torch 2.8.0 from PyPI is built with cxx11abiTRUE",
    ),
    "aarch64": (
        "2.9.1",
        f"{RELEASES}/v2.8.3/flash_attn-2.8.3%2Bcu12torch2.9cxx11abiTRUE-cp312-cp312-linux_aarch64.whl",
        "is built for linux_aarch64, but Spaces run on Linux x86_64",
    ),
    "not https": (
        "2.8.0",
        f"http://github.com/Dao-AILab/flash-attention/releases/download/v2.8.3/{GOOD_NAME}",
        "must be an https:// address",
    ),
    "not a URL": ("2.8.0", GOOD_NAME, "must be an https:// address"),
    "not a wheel": (
        "2.8.0",
        "https://github.com/Dao-AILab/flash-attention/archive/refs/tags/v2.8.3.tar.gz",
        "must end with a wheel file name",
    ),
    "not a valid wheel name": ("2.8.0", "https://example.org/flash_attn.whl", "is not a valid wheel file name"),
    "not flash_attn": (
        "2.8.0",
        f"{CAUSAL_CONV1D_RELEASES}/v1.5.4/causal_conv1d-1.5.4%2Bcu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "is a wheel of causal-conv1d, not of flash_attn",
    ),
    "no build label": (
        "2.8.0",
        "https://example.org/flash_attn-2.8.3-cp312-cp312-linux_x86_64.whl",
        "has no build label like '+cu12torch2.8cxx11abiTRUE'",
    ),
    "spaces": ("2.8.0", f"{GOOD_FORK_URL} --no-deps", "contains spaces"),
}


@pytest.mark.parametrize(("torch_version", "url", "expected"), BAD_PASTED_URLS.values(), ids=BAD_PASTED_URLS)
def test_a_bad_pasted_url_is_refused_with_its_reason(torch_version, url, expected):
    message = flash_attn.flash_attn_error("3.12", torch_version, url)
    assert expected in message
    with pytest.raises(ValueError, match="flash"):
        flash_attn.flash_attn_wheel_url("3.12", torch_version, url)


def test_each_bad_pasted_url_gets_its_own_message():
    messages = [flash_attn.flash_attn_error("3.12", torch, url) for torch, url, _ in BAD_PASTED_URLS.values()]
    assert all(messages)
    assert len(set(messages)) == len(messages)


# Credentials in a pasted URL

SECRET = "hf_" + "S3cr3tT0k3nAbCdEfGhIjKlMnOpQrStUv"
CREDENTIAL_URLS = {
    "user and token": f"https://user:{SECRET}@example.org/{GOOD_NAME}",
    "token as user": f"https://{SECRET}@example.org/{GOOD_NAME}",
    "user only": f"https://someone@example.org/{GOOD_NAME}",
    "token in the query": f"https://example.org/{GOOD_NAME}?token={SECRET}",
    "access_token": f"https://example.org/{GOOD_NAME}?download=true&access_token=abc123",
    "signed URL": f"https://bucket.s3.amazonaws.com/{GOOD_NAME}?X-Amz-Signature=abc&X-Amz-Credential=AKIA",
    "Azure SAS": f"https://acct.blob.core.windows.net/w/{GOOD_NAME}?sv=2024&sig=abc",
    "token in the path": f"https://example.org/{SECRET}/{GOOD_NAME}",
}


@pytest.mark.parametrize("url", CREDENTIAL_URLS.values(), ids=CREDENTIAL_URLS)
def test_a_url_carrying_a_credential_is_refused_without_showing_it(url):
    message = flash_attn.flash_attn_error("3.12", "2.8.0", url)
    assert "carries" in message and "pushed with the Space" in message, message
    assert SECRET not in message and "abc123" not in message and "sig=abc" not in message
    assert "S3cr3t" not in message and "AKIA" not in message


@given(secret=st.text(alphabet=string.ascii_letters + string.digits + "-._~%!$&'()*+,;=", min_size=1, max_size=40))
def test_no_message_about_a_pasted_url_shows_its_user_info_or_query(secret):
    """Whatever the secret, the message is the same: nothing of it is shown."""
    for url in ("https://u:{}@example.org/" + GOOD_NAME, "https://example.org/" + GOOD_NAME + "?token={}",
                "https://{}@example.org/x y.whl", "http://u:{}@example.org/" + GOOD_NAME):  # fmt: skip
        message = flash_attn.flash_attn_error("3.12", "2.8.0", url.format(secret))
        assert message and message == flash_attn.flash_attn_error("3.12", "2.8.0", url.format("other")), message


@given(user=st.text(alphabet=st.characters(codec="ascii", exclude_characters="\x00"), min_size=1, max_size=12))
@example(user="#")  # "https://#@host/...": no user info to urlsplit (the fragment starts at "#"), shown before
@example(user="*")  # the mask itself ends in "*@": only what is left besides it counts
@example(user="/")  # masked, "https://***@": the scheme's own "/" must not pass for the user's (CI, hypothesis)
def test_no_message_shows_what_comes_before_an_at_sign_even_in_a_malformed_url(user):
    message = flash_attn.flash_attn_error("3.12", "2.8.0", f"https://{user}@example.org/{GOOD_NAME}")
    unmasked = message.replace("***@", "\x00@")  # the redaction's own mark, as a character no user holds
    assert f"{user}@" not in unmasked, message  # ("" where it is a URL after all: "https://0/@example.org/...")


def test_a_harmless_query_is_accepted():
    url = f"https://huggingface.co/acme/wheels/resolve/main/{GOOD_NAME}?download=true"
    assert flash_attn.flash_attn_error("3.12", "2.8.0", url) == ""


# The Jinja extension


def test_extension_registers_globals_and_filters():
    environment = Environment(extensions=[flash_attn.FlashAttnExtension])
    requirement = environment.from_string("{{ flash_attn_requirement(python_version, torch_version) }}")
    assert requirement.render(python_version="3.12", torch_version="2.8.0") == flash_attn.flash_attn_requirement(
        "3.12", "2.8.0"
    )
    validator = environment.from_string("{{ flash_attn_error(python_version, torch_version, wheel_url) }}")
    assert validator.render(python_version="3.12", torch_version="2.8.0", wheel_url="") == ""
    assert "2.8.0, 2.9.1" in validator.render(python_version="3.12", torch_version="2.13.0", wheel_url="")
    as_filter = environment.from_string("{{ python_version | flash_attn_wheel_url(torch_version) }}")
    assert as_filter.render(python_version="3.12", torch_version="2.9.1").endswith("cp312-linux_x86_64.whl")
    listing = environment.from_string("{{ torch_versions_with_wheels('3.10') | join(', ') }}")
    assert listing.render() == "2.8.0"
