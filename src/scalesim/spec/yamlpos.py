"""YAML loading that remembers where every key and value is, so errors can name a line."""

from __future__ import annotations

from typing import Any

import yaml

from scalesim.spec.errors import Path

Position = tuple[int, int]  # 1-based line and column


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.position = position


def load_with_positions(text: str) -> tuple[Any, dict[Path, Position]]:
    """Parse YAML into plain data plus a map from each path to its line and column.

    For a mapping entry the position is that of its key (where a person looks for a field);
    for a list item it is the item itself. Duplicate keys are an error, not a silent overwrite.
    """
    positions: dict[Path, Position] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            return None, positions
        positions[()] = _position(root)
        return _convert(root, (), positions), positions
    except yaml.MarkedYAMLError as error:  # syntax, or a value no constructor accepts
        mark = error.problem_mark or error.context_mark
        position = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(f"YAML syntax: {error.problem or error}", position) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        before = text[: error.position]
        position = (before.count("\n") + 1, len(before) - before.rfind("\n"))
        raise YamlSyntaxError(f"YAML syntax: character #x{error.character:04x} is not allowed",
                              position) from None


def _position(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: yaml.Node, path: Path, positions: dict[Path, Position]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError("a mapping key must be a plain value", _position(key_node))
            # Keys stay text: YAML 1.1 would read a retry's `on:` as the boolean true.
            key = key_node.value
            if key in result:
                raise YamlSyntaxError(f"duplicate key '{key}'", _position(key_node))
            child = (*path, key)
            positions[child] = _position(key_node)
            result[key] = _convert(value_node, child, positions)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            child = (*path, index)
            positions[child] = _position(item_node)
            items.append(_convert(item_node, child, positions))
        return items
    return _CONSTRUCTOR.construct_object(node, deep=True)


_CONSTRUCTOR = yaml.SafeLoader("")
