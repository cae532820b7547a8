"""Specs are read through libyaml when PyYAML has it (spec/yamlpos.py): the same data, the
same positions and the same errors as PyYAML's own Python loader, which stays the
reference and the one errors are reported from."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scalesim.spec import yamlpos
from scalesim.templates import TEMPLATES

REPO = Path(__file__).resolve().parents[2]

needs_libyaml = pytest.mark.skipif(
    not yamlpos._LIBYAML, reason="PyYAML was built without libyaml: specs are read in Python")

TRICKY = [
    "name: café\nnext: [1, 2]\n",                      # a column after non-ASCII text
    "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",                 # CRLF line ends
    "\ufeffa: 1\nb: 2\n",                               # a byte-order mark
    "base: &b {work: 5ms, calls: [{to: db.q}]}\nx: *b\ny: *b\n",   # anchors and aliases
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
    "on: yes\noff: ~\n'quoted': \"é\\u00e9\"\nn: 0x1F\nf: 1.5e3\nt: 2001-12-14\n",
    "# only a comment\n",
    "",
    "- 1\n- [a, {b: c}]\n- {? complex : 1}\n",
]
BROKEN = [
    "a:\n\tb: 1\n",                                     # a tab
    "a: 1\n b: 2\n",                                    # indentation
    "a:\n  b: 1\n c: 2\n",
    "a: 1\na: 2\n",                                     # a duplicate key
    "a: 1\n---\nb: 2\n",                                # two documents
    "a: \x07\n",                                        # a control character
    "a: [1, 2\n",
    "x: *nowhere\n",
    "{a: 1}: 2\n",                                      # a mapping as a key
    "a: " + "[" * 300 + "]" * 300 + "\n",               # past MAX_DEPTH
    "n: 1" + "0" * 5000 + "\n",                         # an integer Python will not convert
]


def _reference(text: str) -> Any:
    """What PyYAML's Python loader gives: the data and positions, or the error."""
    try:
        root, aliases = yamlpos._compose(text, yamlpos._BoundedLoader)
        if root is None:
            return None, {}
        positions = {(): yamlpos._position(root)}
        return yamlpos._Converter(positions, aliases).convert(root, ()), positions
    except yaml.YAMLError as error:
        return "error", type(error).__name__
    except yamlpos.YamlSyntaxError as error:
        return "error", str(error), error.position


def _read(text: str) -> Any:
    try:
        return yamlpos.load_with_positions(text)
    except yamlpos.YamlSyntaxError as error:
        return "error", str(error), error.position


def _python_only(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(yamlpos, "_LIBYAML", False)
        return _read(text)


def _corpus() -> list[tuple[str, str]]:
    files = sorted((REPO / "examples").glob("*.yaml"))
    texts = [(path.name, path.read_text()) for path in files]
    texts += [(template.id, template.build().text) for template in TEMPLATES]
    return texts + [(f"tricky {n}", text) for n, text in enumerate(TRICKY)]


CORPUS = _corpus()


@needs_libyaml
@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[name for name, _ in CORPUS])
def test_libyaml_reads_every_example_and_template_as_python_does(name: str, text: str) -> None:
    read = _read(text)
    assert read == _reference(text), name
    assert read[0] is None or read[1], "positions were recorded"


@pytest.mark.parametrize("text", BROKEN)
def test_errors_are_the_python_loaders(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    error = _read(text)
    assert error[0] == "error" and error == _python_only(text, monkeypatch)
    assert error[2][0] >= 1, "the error names a line"


@needs_libyaml
def test_a_document_libyaml_accepts_is_composed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is taken: one composition, by the libyaml loader."""
    used: list[str] = []
    compose = yamlpos._compose

    def counted(text: str, loader_type: Any) -> Any:
        used.append(loader_type.__name__)
        return compose(text, loader_type)

    monkeypatch.setattr(yamlpos, "_compose", counted)
    yamlpos.load_with_positions((REPO / "examples" / "shop.yaml").read_text())
    assert used == ["_FastLoader"]
    used.clear()
    with pytest.raises(yamlpos.YamlSyntaxError):
        yamlpos.load_with_positions("a:\n\tb: 1\n")
    assert used == ["_FastLoader", "_BoundedLoader"], "refused: read again in Python"


# Documents near valid YAML: a spec's lines with characters inserted, deleted or swapped.
SPEC = (REPO / "examples" / "shop.yaml").read_text()[:1500]
EDIT_CHARS = st.sampled_from(list(" :-[]{}#&*!|>'\"\t\n,?%@`é") + list(string.ascii_letters[:6]))


@st.composite
def mangled(draw: st.DrawFn) -> str:
    text = SPEC
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(EDIT_CHARS) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
    return text


@needs_libyaml
@settings(max_examples=300, deadline=None, derandomize=True)
@given(mangled())
def test_libyaml_and_python_agree_on_mangled_specs(text: str) -> None:
    read = _read(text)
    reference = _reference(text)
    if reference[0] == "error" and read[0] == "error":
        return  # both refuse it; the message is the Python loader's (test above)
    assert read == reference
