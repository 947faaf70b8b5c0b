"""Serialise free-text answers for the file formats a Space is made of: YAML frontmatter, TOML and Python.

Answers are never pasted raw into those files: each filter here returns text that parses back to exactly the value
it was given, and the tests fuzz that promise.
"""

from __future__ import annotations

import ast
import json

import yaml
from jinja2.ext import Extension

# Keys the Hub reads as strings although they look like numbers: YAML would read python_version 3.10 as 3.1.
QUOTED_FRONTMATTER_KEYS = ("sdk_version", "python_version")


class _QuotedString(str):
    pass


class _FrontmatterDumper(yaml.SafeDumper):
    pass


_FrontmatterDumper.add_representer(
    _QuotedString, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
)


def frontmatter(metadata: dict) -> str:
    """The YAML block of a Space's README.md (without the `---` fences), keys in the given order."""
    quoted = {key: _QuotedString(value) if key in QUOTED_FRONTMATTER_KEYS else value for key, value in metadata.items()}
    readable = yaml.dump(quoted, Dumper=_FrontmatterDumper, sort_keys=False, allow_unicode=True, width=1000)
    if yaml.safe_load(readable) == metadata:
        return readable
    # Some characters (NEL, line and paragraph separators) only survive YAML escaped.
    return yaml.dump(quoted, Dumper=_FrontmatterDumper, sort_keys=False, allow_unicode=False, width=1000)


def toml_str(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML also forbids a raw DEL character."""
    return json.dumps(str(text), ensure_ascii=False).replace("\x7f", "\\u007f")


def python_str(text: str) -> str:
    """A Python string literal, double-quoted where that round-trips, as ruff's formatter would write it."""
    literal = json.dumps(str(text), ensure_ascii=False)
    return literal if ast.literal_eval(literal) == text else repr(str(text))


class SerializeExtension(Extension):
    """Registers the serialisers above as Jinja filters."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(frontmatter=frontmatter, toml_str=toml_str, python_str=python_str)
