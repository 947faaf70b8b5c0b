"""What a Space's .copier-answers.yml records about its template, so that `copier update` finds it again.

Copier records the template's path as it was typed, and reads it back from where `copier update` runs: the Space's
own folder. README's first command, run in a clone of this repository, types `.`, which from inside the Space would
be the Space itself ("Unknown revision" on every update). So a local template is recorded as the Space sees it: `..`
for a Space made inside the clone (it survives moving the clone with the Space in it), an absolute path for a Space
made anywhere else. URLs (`gh:...`, `https://...`) and absolute paths are kept as typed.
"""

from __future__ import annotations

import os
import re

from jinja2.ext import Extension
from packaging.version import InvalidVersion, Version


def space_relative_src_path(src_path: str, dst_path: str) -> str:
    """`src_path` as the Space at `dst_path` must record it; both are as Copier got them, relative to the working
    directory of `copier copy` (or of `copier update`, which runs in the Space: `..` then stays `..`)."""
    if os.path.isabs(src_path) or not os.path.isdir(src_path):
        return src_path  # a URL, an absolute path, or anything else Copier resolves by itself
    template, space = os.path.abspath(src_path), os.path.abspath(dst_path)
    if os.path.commonpath([template, space]) == template:  # the Space lies inside the template's clone
        return os.path.relpath(template, space)
    return template


def template_version(commit: str | None) -> str:
    """The template version a Space records (its `_commit`), in words for the messages after copy and update: a
    release is a tag `vX.Y.Z`; anything else is a commit, which `copier update` replaces with the next release."""
    release = re.fullmatch(r"v(.+)", commit or "")
    try:
        if release and not Version(release[1]).is_devrelease:
            return f"release {commit}"
    except InvalidVersion:
        pass
    return (f"commit {commit}, not a release: `copier update` takes the newest release, or the newest commit while "
            "none is tagged")  # fmt: skip


class AnswersExtension(Extension):
    """Registers `space_relative_src_path` and `template_version` as Jinja filters."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(space_relative_src_path=space_relative_src_path, template_version=template_version)
