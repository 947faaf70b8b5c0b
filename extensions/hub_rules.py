"""The Hugging Face Hub's rules for a Space's answers, as Jinja filters.

Each `*_error` filter returns "" for a good answer and a one-line message otherwise, so copier.yml can use it
directly as a question's `validator`. Everything here is pure: no network, no files, no clock.
"""

from __future__ import annotations

import re
import unicodedata

from jinja2.ext import Extension
from packaging.version import InvalidVersion, Version

try:
    import emoji as emoji_data
except ImportError as error:  # Copier's own environment lacks it: say how to run Copier with it
    raise ImportError(
        "copier-zerogpu checks the card's emoji with the `emoji` package: run Copier with it, e.g. "
        "`uvx --with copier-template-extensions --with emoji copier copy --trust ...`"
    ) from error

# https://huggingface.co/docs/hub/spaces-config-reference (colorFrom / colorTo)
SPACE_COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")

# https://huggingface.co/docs/hub/repositories-licenses (the identifiers a card's `license` accepts)
HUB_LICENSES = frozenset(
    {
        "apache-2.0",
        "mit",
        "openrail",
        "bigscience-openrail-m",
        "creativeml-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
        "afl-3.0",
        "artistic-2.0",
        "bsl-1.0",
        "bsd",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "c-uda",
        "cc",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "cdla-sharing-1.0",
        "cdla-permissive-1.0",
        "cdla-permissive-2.0",
        "wtfpl",
        "ecl-2.0",
        "epl-1.0",
        "epl-2.0",
        "etalab-2.0",
        "eupl-1.1",
        "agpl-3.0",
        "gfdl",
        "gpl",
        "gpl-2.0",
        "gpl-3.0",
        "lgpl",
        "lgpl-2.1",
        "lgpl-3.0",
        "isc",
        "lppl-1.3c",
        "ms-pl",
        "mpl-2.0",
        "odc-by",
        "odbl",
        "openrail++",
        "osl-3.0",
        "postgresql",
        "ofl-1.1",
        "ncsa",
        "unlicense",
        "zlib",
        "pddl",
        "lgpl-lr",
        "deepfloyd-if-license",
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "gemma",
        "unknown",
        "other",
    }
)

# A repo name on the Hub, and each part of an `owner/name` id: letters, digits, "-", "_", "."; no "--" or "..";
# no leading or trailing "-" or "."; no ".git" ending; at most 96 characters. The limit is per part, not for the whole
# id: huggingface_hub's validate_repo_id caps the owner and the name at 96 each, and the Hub hosts ids longer than 96
# (the tests hold this module to huggingface_hub).
REPO_NAME_MAX = 96
_REPO_NAME = re.compile(rf"[A-Za-z0-9_.-]{{1,{REPO_NAME_MAX}}}")
SHORT_DESCRIPTION_MAX = 60
FULLY_QUALIFIED = emoji_data.STATUS["fully_qualified"]
TITLE_MAX = 100


def repo_name_error(name: str, what: str = "name") -> str:
    """The Hub's rule for one part of a repo id (an owner or a repo name)."""
    if not isinstance(name, str) or not _REPO_NAME.fullmatch(name):
        return f"The {what} {name!r} must be 1 to {REPO_NAME_MAX} letters, digits, '-', '_' or '.'."
    if "--" in name or ".." in name:
        return f"The {what} {name!r} must not contain '--' or '..'."
    if name[0] in "-." or name[-1] in "-.":
        return f"The {what} {name!r} must not start or end with '-' or '.'."
    if name.endswith(".git"):
        return f"The {what} {name!r} must not end with '.git'."
    return ""


def repo_id_error(repo_id: str, what: str = "model id") -> str:
    """A full `owner/name` id, as used for models."""
    owner, slash, name = str(repo_id).partition("/")
    if not slash:
        return f"The {what} {repo_id!r} must look like 'owner/name', e.g. 'HuggingFaceTB/SmolLM2-1.7B-Instruct'."
    return repo_name_error(owner, f"owner in the {what}") or repo_name_error(name, f"name in the {what}")


def space_id_error(owner: str, name: str) -> str:
    """The Space's own id, `owner/name`: each part by the Hub's rule for it."""
    return repo_name_error(owner, "Space owner") or repo_name_error(name, "Space name")


def hub_slug(text: str) -> str:
    """A valid Hub repo name made from free text: ASCII letters and digits joined by single dashes."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:REPO_NAME_MAX].rstrip("-") or "zerogpu-space"


def one_line_error(text: str, what: str, max_length: int) -> str:
    """Free text that ends up on one line of YAML: non-empty, printable, not too long. Unicode's line and paragraph
    separators (U+2028, U+2029) break lines too, for YAML and for Python's str.splitlines."""
    if not isinstance(text, str) or not text.strip():
        return f"The {what} must not be empty."
    if any(unicodedata.category(char).startswith(("C", "Zl", "Zp")) for char in text):
        return (
            f"The {what} must be one line of printable text (no newlines, line or paragraph separators, tabs or "
            "control characters)."
        )
    if len(text) > max_length:
        return f"The {what} is {len(text)} characters long; the Hub allows at most {max_length}."
    return ""


def title_error(title: str) -> str:
    return one_line_error(title, "title", TITLE_MAX)


def short_description_error(text: str) -> str:
    return one_line_error(text, "short description", SHORT_DESCRIPTION_MAX)


def emoji_error(emoji: str) -> str:
    """Exactly one emoji as Unicode's emoji data (the `emoji` package) defines it, fully qualified: skin tones, ZWJ
    sequences, flags and keycaps such as 1️⃣ included; the text forms (© without U+FE0F) and components refused."""
    if not isinstance(emoji, str) or not emoji_data.is_emoji(emoji):
        found = len(emoji_data.emoji_list(emoji)) if isinstance(emoji, str) else 0
        others = isinstance(emoji, str) and emoji_data.replace_emoji(emoji, "") != ""
        extra = f" (it holds {found} emoji{' and other characters' if others else ''})" if found else ""
        return f"The emoji {emoji!r} must be exactly one emoji, e.g. '🚀'{extra}."
    status = emoji_data.EMOJI_DATA[emoji]["status"]
    if status == emoji_data.STATUS["component"]:
        return f"The emoji {emoji!r} is a part of emoji (a skin tone or hair style), not one of its own."
    if status != FULLY_QUALIFIED:
        qualified = emoji + "\ufe0f"  # the emoji variation selector
        hint = (
            f": use {qualified!r}" if emoji_data.EMOJI_DATA.get(qualified, {}).get("status") == FULLY_QUALIFIED else ""
        )
        return f"The emoji {emoji!r} is the text form of an emoji, which may not show as one{hint}."
    return ""


def color_error(color: str) -> str:
    return "" if color in SPACE_COLORS else f"The color {color!r} must be one of: {', '.join(SPACE_COLORS)}."


def license_error(license_id: str) -> str:
    if license_id in HUB_LICENSES:
        return ""
    return (
        f"The license {license_id!r} is not a Hub license identifier "
        "(see https://huggingface.co/docs/hub/repositories-licenses), e.g. apache-2.0, mit, cc-by-4.0, other."
    )


def gradio_version_error(version: str, tested: list[str] | tuple[str, ...] = ()) -> str:
    """The sdk_version: a final Gradio release, 6 or later (the pinned transformers and diffusers need 6). The kind's
    pins are tested with `tested`; another release is accepted here, and the export task then proves that it
    resolves with them, or fails the copy saying why."""
    example = f"'{tested[0]}'" if tested else "'6.31.0'"
    try:
        parsed = Version(str(version))
    except InvalidVersion:
        return f"The Gradio version {version!r} is not a version number, e.g. {example}."
    if parsed.local:
        return f"The Gradio version {version!r} has a local label (+{parsed.local}): PyPI never serves one."
    if parsed.is_prerelease:
        return f"The Gradio version {version!r} is a pre-release: give a final release like {example}."
    if parsed.is_postrelease or str(parsed) != str(version) or len(parsed.release) != 3:
        return f"The Gradio version {version!r} must be an exact release like {example}, written as PyPI writes it."
    if parsed.major < 6:
        return (
            f"The Gradio version {version!r} is too old: the pinned transformers and diffusers need Gradio 6 or later."
        )
    return ""


class HubRulesExtension(Extension):
    """Registers the rules above as Jinja filters."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(
            hub_slug=hub_slug,
            repo_name_error=repo_name_error,
            repo_id_error=repo_id_error,
            title_error=title_error,
            short_description_error=short_description_error,
            emoji_error=emoji_error,
            color_error=color_error,
            license_error=license_error,
            gradio_version_error=gradio_version_error,
        )
        environment.globals.update(space_id_error=space_id_error, space_colors=SPACE_COLORS)
