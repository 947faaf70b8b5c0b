"""Free-text answers reach YAML, TOML and Python: each comes back exactly, or is refused by its validator."""

import ast

from conftest import frontmatter, pyproject, space_card
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from extensions import hub_rules

TRICKY = [
    'He said "hi"', "it's", "key: value", "- item", "{{ 7 * 7 }}", "{% raw %}", "#comment", "&anchor *alias",
    "!!python/object", "null", "3.10", "yes", "@at", "`tick`", "back\\slash", "ünïcödé ✨ 🚀", "\u2028", "a\x7fb",
    "tab\there", "new\nline", "  padded  ", "",
]  # fmt: skip
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
@given(title=free_text)
def test_space_name_defaults_to_a_valid_slug_of_any_title(copie_no_tasks, title):
    result = copie_no_tasks.copy(extra_answers={"space_title": title or "x"})
    if hub_rules.title_error(title or "x"):
        assert result.exit_code != 0
        return
    assert result.exit_code == 0, result.exception
    assert not hub_rules.repo_name_error(result.answers["space_name"])
