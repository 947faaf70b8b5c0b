"""The pure extensions, checked against the libraries that own each rule (huggingface_hub, PyYAML, tomllib, ast)."""

import ast
import json
import tomllib

import emoji as emoji_package
import pytest
import yaml
from conftest import TEMPLATE_DIR
from huggingface_hub.utils import HFValidationError, validate_repo_id
from hypothesis import given
from hypothesis import strategies as st

from extensions import answers, hub_rules, kinds, serialize
from extensions.platform_facts import load_platform

names = st.text(alphabet=st.characters(codec="ascii"), min_size=0, max_size=100)


@given(owner=names, name=names)
def test_accepted_ids_are_valid_for_huggingface_hub(owner, name):
    if not hub_rules.repo_id_error(f"{owner}/{name}"):
        validate_repo_id(f"{owner}/{name}")  # raises HFValidationError if we let a bad id through


@pytest.mark.parametrize("bad", ["foo--bar", "a..b", ".hidden", "trail-", "x.git", "x" * 97, "sp ace"])
def test_names_huggingface_hub_refuses_are_refused(bad):
    assert hub_rules.repo_name_error(bad)
    with pytest.raises(HFValidationError):
        validate_repo_id(f"owner/{bad}")


def test_the_96_character_limit_is_per_part_as_in_huggingface_hub():
    """huggingface_hub caps the owner and the name at 96 characters each, not the whole id (the Hub hosts ids of
    more than 96 characters): a 96-character name under any valid owner is a valid Space id."""
    owner, name = "acme-research-laboratories", "n" * 96
    validate_repo_id(f"{owner}/{name}")
    assert hub_rules.space_id_error(owner, name) == ""
    assert hub_rules.repo_id_error(f"{owner}/{name}") == ""
    assert "1 to 96" in hub_rules.space_id_error(owner, name + "n")


@given(owner=st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9_]|-(?!-)){0,94}[A-Za-z0-9]", fullmatch=True), title=st.text())
def test_the_slug_of_any_title_makes_a_valid_space_id_with_any_owner(owner, title):
    slug = hub_rules.hub_slug(title)
    assert hub_rules.space_id_error(owner, slug) == ""
    validate_repo_id(f"{owner}/{slug}")


def test_non_ascii_names_are_refused():
    """huggingface_hub's regex lets unicode letters through; the Hub itself does not, and neither do we."""
    assert hub_rules.repo_name_error("café")


@given(st.text(max_size=200))
def test_slug_of_any_title_is_a_valid_name(title):
    slug = hub_rules.hub_slug(title)
    assert not hub_rules.repo_name_error(slug), slug
    validate_repo_id(f"owner/{slug}")


def test_slug_examples():
    assert hub_rules.hub_slug("My ZeroGPU Space") == "my-zerogpu-space"
    assert hub_rules.hub_slug("Café — déjà vu!") == "cafe-deja-vu"
    assert hub_rules.hub_slug("🚀🚀") == "zerogpu-space"


@pytest.mark.parametrize("emoji", ["🚀", "💬", "🎨", "👩‍🔬", "👍🏽", "❤️", "🇫🇷", "1️⃣", "#️⃣", "©️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"])
def test_real_emoji_are_accepted(emoji):
    assert hub_rules.emoji_error(emoji) == ""


@pytest.mark.parametrize(
    ("emoji", "message"),
    [("🚀\x7f", "1 emoji and other characters"), ("🚀\u202e", "1 emoji and other characters"),
     ("🚀🚀", "holds 2 emoji)"), ("🎨💬🚀", "holds 3 emoji)"), ("©", "use '©️'"), ("❤", "use '❤️'"),
     ("1⃣", "text form"), ("🏽", "part of emoji"), ("rocket", "exactly one emoji"), ("", "exactly one emoji"),
     (" 🚀", "other characters"), ("\u2028", "exactly one emoji")],
)  # fmt: skip
def test_anything_but_one_fully_qualified_emoji_is_refused(emoji, message):
    assert message in hub_rules.emoji_error(emoji)


@given(st.text(max_size=12))
def test_an_accepted_emoji_is_exactly_one_emoji_for_the_emoji_package(text):
    """The rule is the `emoji` package's data, not ours: whatever is accepted is one fully-qualified emoji."""
    if not hub_rules.emoji_error(text):
        assert emoji_package.is_emoji(text) and emoji_package.emoji_count(text) == 1
        assert emoji_package.EMOJI_DATA[text]["status"] == emoji_package.STATUS["fully_qualified"]


@pytest.mark.parametrize("separator", ["\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\x1c"])
def test_one_line_means_no_line_break_of_any_kind(separator):
    """U+2028 and U+2029 are line breaks for YAML and for Python's str.splitlines."""
    text = f"Two{separator}lines"
    assert len(text.splitlines()) == 2
    assert "one line" in hub_rules.title_error(text)
    assert "one line" in hub_rules.short_description_error(text)


@given(st.text(max_size=100))
def test_accepted_one_line_text_has_no_line_break(text):
    if not hub_rules.title_error(text):
        assert text.splitlines() == [text]


@pytest.mark.parametrize("license_id", ["apache-2.0", "mit", "openrail++", "llama3.1", "other"])
def test_hub_licenses_are_accepted(license_id):
    assert hub_rules.license_error(license_id) == ""


def test_gradio_version_accepts_exact_releases():
    assert hub_rules.gradio_version_error("6.31.0") == ""
    assert "too old" in hub_rules.gradio_version_error("4.44.1")


@given(st.dictionaries(st.sampled_from(["title", "short_description", "sdk_version", "python_version"]), st.text()))
def test_frontmatter_parses_back_exactly(metadata):
    assert yaml.safe_load(serialize.frontmatter(metadata) or "{}") == (metadata or {})


def test_frontmatter_quotes_versions():
    text = serialize.frontmatter({"sdk_version": "6.31.0", "python_version": "3.10", "title": "3.10"})
    assert 'sdk_version: "6.31.0"\npython_version: "3.10"\n' in text
    assert yaml.safe_load(text)["python_version"] == "3.10"


@given(st.text())
def test_toml_strings_parse_back_exactly(text):
    assert tomllib.loads(f"value = {serialize.toml_str(text)}")["value"] == text


@given(st.text())
def test_python_strings_parse_back_exactly(text):
    literal = serialize.python_str(text)
    assert ast.literal_eval(literal) == text
    compile(f"TITLE = {literal}\n", "app.py", "exec")


def test_every_kind_folder_is_complete():
    found = kinds.load_kinds(TEMPLATE_DIR / "kinds")
    assert set(found) == {folder.name for folder in (TEMPLATE_DIR / "kinds").iterdir() if folder.is_dir()}
    for kind in found.values():
        assert not hub_rules.repo_id_error(kind["model_id"])
        assert not hub_rules.short_description_error(kind["short_description"])
        assert not hub_rules.emoji_error(kind["emoji"])


def test_a_kind_folder_missing_a_file_is_reported(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "kind.yml").write_text("label: Audio\n")
    with pytest.raises(FileNotFoundError, match="app.py.jinja"):
        kinds.load_kinds(tmp_path)
    for name in kinds.KIND_FILES[1:]:
        (tmp_path / "audio" / name).write_text("")
    with pytest.raises(FileNotFoundError, match="browser_checks.py"):  # the kind's parts of the repository's checks
        kinds.load_kinds(tmp_path)
    for name in kinds.KIND_PARTS:
        (tmp_path / "audio" / name).write_text("")
    with pytest.raises(ValueError, match="model_id"):
        kinds.load_kinds(tmp_path)


def test_a_kind_naming_a_fast_path_it_lacks_is_reported(tmp_path):
    name, meta = next((name, meta) for name, meta in kinds.load_kinds().items() if meta["fast_path"])
    source = TEMPLATE_DIR / "kinds" / name
    kind = tmp_path / "copy"
    kind.mkdir()
    fast_path = meta["fast_path"]
    for file in source.iterdir():  # all of the kind but its fast path, the fast path's tests and its GPU benchmark
        if file.is_file() and file.name not in (fast_path, f"test_{fast_path}", "fast_path_on_gpu.py"):
            (kind / file.name).write_bytes(file.read_bytes())
    with pytest.raises(ValueError, match=fast_path):
        kinds.load_kinds(tmp_path)
    (kind / fast_path).write_text("")
    with pytest.raises(ValueError, match=f"test_{fast_path}"):
        kinds.load_kinds(tmp_path)
    (kind / f"test_{fast_path}").write_text("")
    with pytest.raises(ValueError, match="fast_path_on_gpu.py"):
        kinds.load_kinds(tmp_path)
    (kind / "fast_path_on_gpu.py").write_text("")
    assert kinds.load_kinds(tmp_path)["copy"]["fast_path"] == fast_path


def copy_kind_without_extras(tmp_path, extra_yaml: str):
    """A copy of a kind with a fast path and AoTI taken out (their modules left behind) and extra_yaml appended to
    its kind.yml: what a kind needs least."""
    name = next(name for name, meta in kinds.load_kinds().items() if meta["fast_path"])
    source = TEMPLATE_DIR / "kinds" / name
    kind = tmp_path / "copy"
    kind.mkdir(parents=True)
    for file in source.iterdir():
        if file.is_file() and file.name != "kind.yml":
            (kind / file.name).write_bytes(file.read_bytes())
    found = yaml.safe_load((source / "kind.yml").read_text(encoding="utf-8"))
    found = {key: value for key, value in found.items() if key not in ("fast_path", "aoti")}
    (kind / "kind.yml").write_text(yaml.safe_dump(found) + extra_yaml, encoding="utf-8")
    return kind


def test_the_optional_keys_default_to_nothing_extra(tmp_path):
    copy_kind_without_extras(tmp_path, "")
    meta = kinds.load_kinds(tmp_path)["copy"]
    assert (meta["fast_path"], meta["aoti"], meta["system_packages"], meta["assets"]) == (None, False, [], [])
    assert meta["mcp"] is True and kinds.mcp_refusal("copy", tmp_path) == ""


def test_a_kind_listing_an_asset_it_lacks_or_outside_its_folder_is_reported(tmp_path):
    kind = copy_kind_without_extras(tmp_path, "assets: [examples/speech.mp3, ../escape.png]\n")
    with pytest.raises(ValueError, match="examples/speech.mp3, ../escape.png"):
        kinds.load_kinds(tmp_path)
    (kind / "examples").mkdir()
    (kind / "examples" / "speech.mp3").write_bytes(b"ID3")
    (tmp_path / "escape.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"lacks \.\./escape\.png"):
        kinds.load_kinds(tmp_path)


@pytest.mark.parametrize(
    ("item", "accepted"),
    [
        ({"file": "examples/house.png"}, True),
        ({"file": "examples/house.png", "mime": "image/png"}, False),
        ({"path": "examples/house.png"}, False),
        ({"file": "examples/other.png"}, False),
        ({"file": "tiny_model.py"}, False),
    ],
)
def test_a_first_call_file_must_be_exactly_one_of_the_kinds_assets(tmp_path, item, accepted):
    kind = copy_kind_without_extras(tmp_path, "")
    (kind / "examples").mkdir()
    (kind / "examples" / "house.png").write_bytes(b"\x89PNG")
    found = yaml.safe_load((kind / "kind.yml").read_text(encoding="utf-8"))
    found["assets"] = ["examples/house.png"]
    found["first_call"]["data"] = [item, *found["first_call"]["data"]]
    (kind / "kind.yml").write_text(yaml.safe_dump(found), encoding="utf-8")
    if accepted:
        assert kinds.load_kinds(tmp_path)["copy"]["first_call"]["data"][0] == item
    else:
        with pytest.raises(ValueError, match=r"first_call data .* must each be \{file: <one of its assets>\}"):
            kinds.load_kinds(tmp_path)


@pytest.mark.parametrize("bad", ["FFmpeg", "ffmpeg; rm -rf /", "-y", "a"])
def test_system_packages_must_be_debian_package_names(tmp_path, bad):
    copy_kind_without_extras(tmp_path, f"system_packages: [{json.dumps(bad)}]\n")
    with pytest.raises(ValueError, match="not Debian package names"):
        kinds.load_kinds(tmp_path)


def test_a_kind_without_mcp_refuses_the_answer(tmp_path):
    copy_kind_without_extras(tmp_path, "mcp: false\n")
    assert "mcp=false" in kinds.mcp_refusal("copy", tmp_path)


def test_plain_kind_files_are_copied_without_rendering():
    chat = next(name for name, meta in kinds.load_kinds().items() if meta["chat_interface"])
    text = kinds.kind_file(chat, "tiny_model.py", TEMPLATE_DIR / "kinds")
    assert "{% for message in messages %}" in text  # the tiny chat model's chat template is Jinja too
    with pytest.raises(ValueError, match="include it"):
        kinds.kind_file(chat, "app.py.jinja", TEMPLATE_DIR / "kinds")


def test_a_local_template_is_recorded_as_the_space_sees_it(tmp_path, monkeypatch):
    """Copier reads `_src_path` back from the Space's own folder (where `copier update` runs)."""
    clone = tmp_path / "copier-zerogpu"
    (clone / "my-space").mkdir(parents=True)
    monkeypatch.chdir(clone)
    assert answers.space_relative_src_path(".", "my-space") == ".."  # README's first command
    monkeypatch.chdir(clone / "my-space")
    assert answers.space_relative_src_path("..", ".") == ".."  # the same, re-rendered by `copier update`
    monkeypatch.chdir(tmp_path)
    assert answers.space_relative_src_path("copier-zerogpu", "elsewhere/space") == str(clone)  # outside: absolute
    for kept in ("gh:owner/copier-zerogpu", "https://github.com/owner/copier-zerogpu.git", str(clone), "missing/dir"):
        assert answers.space_relative_src_path(kept, "space") == kept


@pytest.mark.parametrize(
    ("commit", "words"),
    [("v0.1.0", "release v0.1.0"), ("v1.2.3rc1", "release v1.2.3rc1"), ("c7dfa3f", "commit c7dfa3f, not a release"),
     ("v0.1.0-3-gabc1234", "commit v0.1.0-3-gabc1234, not a release"), ("v0.2.0.dev1", "not a release"),
     (None, "not a release")],
)  # fmt: skip
def test_the_messages_say_whether_the_space_is_on_a_release(commit, words):
    assert words in answers.template_version(commit)


@pytest.mark.parametrize("kind", sorted(kinds.load_kinds()))
def test_each_kind_refuses_the_zerogpu_pythons_it_cannot_run_and_says_why(kind):
    found = kinds.load_kinds()[kind]
    for version in load_platform()["PYTHONS"]:
        refusal = kinds.python_refusal(kind, version)
        assert (refusal == "") == (version in found["python_versions"]), (version, refusal)
        if refusal:
            assert found["python_refused_because"] in refusal and "use 3.12" in refusal
