"""The imported spec as commented YAML: every value beside where it came from.

The spec is assembled as plain data plus comments keyed by their path; this module turns
both into ruamel.yaml's commented objects and writes them, keys in the order assembled.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from scalesim.spec.errors import Path, printable


def _commented(value: Any) -> Any:
    if isinstance(value, dict):
        result = CommentedMap()
        for key, item in value.items():
            result[key] = _commented(item)
        return result
    if isinstance(value, list):
        return CommentedSeq([_commented(item) for item in value])
    if isinstance(value, str):  # the description names the files, whose names may not be
        # UTF-8 (read as lone surrogates): UTF-8 text cannot hold those, their escapes can
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _one_line(text: str) -> str:
    """A comment's text as YAML keeps it: on its line, in UTF-8 (it names files, whose
    names may hold a newline, or bytes that are not UTF-8)."""
    return printable(text, keep="")


def _node(root: Any, path: Path) -> Any:
    for part in path:
        root = root[part]
    return root


def _attach(root: CommentedMap, path: Path, text: str) -> None:
    """The comment at the end of the line of `path` (one space after the value: ruamel's
    own column choice varies from line to line)."""
    parent, key = _node(root, path[:-1]), path[-1]
    value = parent[key]
    if isinstance(key, int):
        if not isinstance(value, CommentedMap) or not value:
            parent.yaml_add_eol_comment(text, key, column=0)
            return
        parent, key = value, next(iter(value))   # beside the item's first key
    parent.yaml_add_eol_comment(text, key, column=0)


def to_text(data: dict[str, Any], comments: dict[Path, str], header: str) -> str:
    root = _commented(data)
    root.yaml_set_start_comment("\n".join(map(_one_line, header.split("\n"))))
    for path, text in comments.items():
        _attach(root, path, _one_line(text))
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()
