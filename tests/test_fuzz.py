"""Free-text answers reach YAML, TOML and Python: each comes back exactly, or is refused by its validator.

Every question that takes free text is fuzzed here: space_title, space_owner, space_name, model_id, aoti_repo, emoji,
short_description, license, gradio_version and flash_attn_wheel. A refused answer names its question and leaves no
files; an accepted one is rendered exactly where it belongs, and no answer holding a credential is ever accepted.
"""

import ast

from conftest import TEMPLATE_DIR, frontmatter, pyproject, space_card
from huggingface_hub.utils import validate_repo_id
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from extensions import flash_attn, hub_rules
from extensions.kinds import load_kinds

TRICKY = [
    'He said "hi"', "it's", "key: value", "- item", "{{ 7 * 7 }}", "{% raw %}", "#comment", "&anchor *alias",
    "!!python/object", "null", "3.10", "yes", "@at", "`tick`", "back\\slash", "ünïcödé ✨ 🚀", "\u2028", "a\x7fb",
    "tab\there", "new\nline", "  padded  ", "",
]  # fmt: skip
AOTI_KIND = next(kind for kind, meta in load_kinds(TEMPLATE_DIR / "kinds").items() if meta.get("aoti"))
free_text = st.one_of(st.sampled_from(TRICKY), st.text(max_size=80))
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def app_literal(project_dir, name: str):
    tree = ast.parse((project_dir / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"app.py has no {name} = ...")


@FUZZ
@given(title=free_text)
@example(title='Quote " and {{ jinja }} and: yaml')
def test_title_comes_back_exactly_or_is_refused(copie_no_tasks, title):
    result = copie_no_tasks.copy(extra_answers={"space_title": title, "space_name": "fuzzed"})
    if hub_rules.title_error(title):
        assert result.exit_code != 0 and "space_title" in str(result.exception)
        return
    assert result.exit_code == 0, result.exception
    assert space_card(result.project_dir).data.title == title
    assert frontmatter(result.project_dir)["title"] == title
    assert app_literal(result.project_dir, "TITLE") == title


@FUZZ
@given(description=free_text)
def test_short_description_comes_back_exactly_or_is_refused(copie_no_tasks, description):
    result = copie_no_tasks.copy(extra_answers={"short_description": description})
    if hub_rules.short_description_error(description):
        assert result.exit_code != 0 and "short_description" in str(result.exception)
        return
    assert result.exit_code == 0, result.exception
    assert frontmatter(result.project_dir)["short_description"] == description
    assert pyproject(result.project_dir)["project"]["description"] == description


@FUZZ
@given(model_id=st.one_of(st.sampled_from(TRICKY), st.from_regex(r"[\w.\-/ '\"]{1,40}", fullmatch=True)))
@example(model_id="my-org/my.model_v2")
def test_model_id_comes_back_exactly_or_is_refused(copie_no_tasks, model_id):
    result = copie_no_tasks.copy(extra_answers={"model_id": model_id})
    if hub_rules.repo_id_error(model_id):
        assert result.exit_code != 0 and "model_id" in str(result.exception)
        return
    assert result.exit_code == 0, result.exception
    assert space_card(result.project_dir).data.models == [model_id]
    app = (result.project_dir / "app.py").read_text(encoding="utf-8")
    assert f'os.environ.get("MODEL_ID", "{model_id}")' in app


@FUZZ
@given(repo=st.one_of(st.sampled_from(TRICKY), st.from_regex(r"[\w.\-/ '\"\\]{1,40}", fullmatch=True)))
@example(repo="my-org/my-space-unet.aoti")
def test_aoti_repo_comes_back_exactly_or_is_refused(copie_no_tasks, repo):
    """Empty means compile at start-up; anything else must be a Hub repo id, which huggingface_hub accepts too."""
    answers = {"app_kind": AOTI_KIND, "aoti": True, "aoti_repo": repo}
    result = copie_no_tasks.copy(extra_answers=answers)
    if repo and hub_rules.repo_id_error(repo):
        assert result.exit_code != 0 and "aoti_repo" in str(result.exception)
        return
    assert result.exit_code == 0, result.exception
    if repo:
        validate_repo_id(repo)
    tree = ast.parse((result.project_dir / "app.py").read_text(encoding="utf-8"))
    (value,) = [
        node.value for node in tree.body if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "AOTI_REPO"
    ]
    assert ast.unparse(value.func) == "os.environ.get" and ast.literal_eval(value.args[1]) == repo


@FUZZ
@given(title=free_text)
def test_space_name_defaults_to_a_valid_slug_of_any_title(copie_no_tasks, title):
    result = copie_no_tasks.copy(extra_answers={"space_title": title or "x"})
    if hub_rules.title_error(title or "x"):
        assert result.exit_code != 0
        return
    assert result.exit_code == 0, result.exception
    assert not hub_rules.repo_name_error(result.answers["space_name"])


# The questions below have their validators fuzzed on their own too (tests/test_extensions.py, test_flash_attn.py):
# fewer renders suffice here.
FUZZ_RENDER = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def refused_cleanly(copie, result, question: str) -> None:
    """Refused, naming the question, and nothing rendered (test_questions.py checks the folder stays empty)."""
    assert result.exit_code != 0 and question in str(result.exception), result.exception
    assert result.project_dir is None


names = st.one_of(st.sampled_from(TRICKY), st.from_regex(r"[\w.\-]{0,100}", fullmatch=True), st.text(max_size=40))


@FUZZ_RENDER
@given(owner=names, name=names)
def test_space_owner_and_name_come_back_exactly_or_are_refused(copie_no_tasks, owner, name):
    result = copie_no_tasks.copy(extra_answers={"space_owner": owner, "space_name": name})
    if hub_rules.space_id_error(owner, name):
        refused_cleanly(copie_no_tasks, result, "space_")
        return
    assert result.exit_code == 0, result.exception
    readme = (result.project_dir / "README.md").read_text(encoding="utf-8")
    assert f"huggingface.co/spaces/{owner}/{name}" in readme
    assert pyproject(result.project_dir)["project"]["name"] == hub_rules.hub_slug(name)


@FUZZ_RENDER
@given(emoji=st.one_of(st.sampled_from(["1️⃣", "👩‍🔬", "🇫🇷", "©", "🚀🚀", "🚀\u202e"]), st.text(max_size=4)))
def test_emoji_comes_back_exactly_or_is_refused(copie_no_tasks, emoji):
    result = copie_no_tasks.copy(extra_answers={"emoji": emoji})
    if hub_rules.emoji_error(emoji):
        refused_cleanly(copie_no_tasks, result, "emoji")
        return
    assert result.exit_code == 0, result.exception
    assert frontmatter(result.project_dir)["emoji"] == emoji


@FUZZ_RENDER
@given(license_id=st.one_of(st.sampled_from(sorted(hub_rules.HUB_LICENSES)), free_text))
def test_license_comes_back_exactly_or_is_refused(copie_no_tasks, license_id):
    result = copie_no_tasks.copy(extra_answers={"license": license_id})
    if hub_rules.license_error(license_id):
        refused_cleanly(copie_no_tasks, result, "license")
        return
    assert result.exit_code == 0, result.exception
    assert space_card(result.project_dir).data.license == license_id


versions = st.one_of(
    st.sampled_from(["6.31.0", "6.31.0rc1", "6.31.0+evil", "6.999.0", "7.0.0", "6.31", "v6.31.0", "5.49.1"]),
    st.from_regex(r"[0-9]{1,2}\.[0-9]{1,3}\.[0-9]{1,2}([a-z]+[0-9]?|\.post1|\+[a-z]+)?", fullmatch=True),
    free_text,
)


@FUZZ_RENDER
@given(version=versions)
def test_gradio_version_comes_back_exactly_or_is_refused(copie_no_tasks, version):
    """Rendered without the export (copie_no_tasks): that a final release which does not resolve fails the copy is
    test_requirements_export.py's job."""
    result = copie_no_tasks.copy(extra_answers={"gradio_version": version})
    if hub_rules.gradio_version_error(version):
        refused_cleanly(copie_no_tasks, result, "gradio_version")
        return
    assert result.exit_code == 0, result.exception
    assert space_card(result.project_dir).data.sdk_version == version
    assert f"gradio[oauth,mcp]=={version}" in pyproject(result.project_dir)["project"]["dependencies"]


WHEEL = "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
url_parts = st.text(alphabet=st.characters(codec="ascii", exclude_characters="\x00"), max_size=12)


@FUZZ_RENDER
@given(
    user=url_parts,
    query=url_parts,
    path=st.sampled_from(["", "v2.8.3/", "a b/"]),
    scheme=st.sampled_from(["https", "http"]),
)
@example(user="#", query="", path="", scheme="https")  # no user info to urlsplit, yet "#@" was shown (CI, stop 17)
@example(user="*", query="", path="", scheme="https")  # the mask itself ends in "*@"
def test_flash_attn_wheel_comes_back_exactly_or_is_refused_and_no_credential_is_written(
    copie_no_tasks, user, query, path, scheme
):
    url = f"{scheme}://{user + '@' if user else ''}example.org/{path}{WHEEL}{'?' + query if query else ''}"
    result = copie_no_tasks.copy(extra_answers={"attention": "flash-attn", "flash_attn_wheel": url})
    if flash_attn.flash_attn_error("3.12", "2.8.0", url):
        refused_cleanly(copie_no_tasks, result, "flash_attn_wheel")
        if user:
            shown = str(result.exception).replace("***@", "@")  # the redaction's own mark ends in "*@"
            assert f"{user}@" not in shown, "a refusal must not show the user info"
        return
    assert result.exit_code == 0, result.exception
    assert not flash_attn.credential_problem(url)
    dependencies = pyproject(result.project_dir)["project"]["dependencies"]
    assert any(dependency.startswith(f"flash-attn @ {url.strip()} ;") for dependency in dependencies), dependencies
