"""YAML loading that remembers where every key and value is, so errors can name a line.

Loading is bounded (docs/spec.md, "Bounds"): nesting deeper than MAX_DEPTH and more than
MAX_NODES values — as written, or once aliases are expanded — are located errors, so a
short file of nested aliases (a "billion laughs") cannot take the memory of the machine.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from scalesim.spec.bounds import MAX_DEPTH, MAX_NODES
from scalesim.spec.errors import Path

Position = tuple[int, int]  # 1-based line and column


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.position = position


class YamlBoundError(YamlSyntaxError):
    """Valid YAML past a documented bound (depth, number of values)."""


def _slot(parent: yaml.Node | None, index: Any) -> tuple[int, int]:
    """A child's place: its parent and its index (a list) or key node (a mapping)."""
    return id(parent), index if isinstance(index, int) else id(index)


class _Bounds:
    """Composing that refuses too deep or too many nodes (the composer recurses once per
    level, so depth is checked before Python's stack runs out). It notes where each alias is
    written: the composed tree holds the anchored node itself there."""

    def _start_bounds(self) -> None:
        self.depth = 0
        self.nodes = 0
        self.aliases: dict[tuple[int, int], Position] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        loader: Any = super()
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            mark = self.peek_event().start_mark  # type: ignore[attr-defined]
            self.aliases[_slot(parent, index)] = (mark.line + 1, mark.column + 1)
            return loader.compose_node(parent, index)  # type: ignore[no-any-return]
        mark = self.peek_event().start_mark  # type: ignore[attr-defined]
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise YamlBoundError(f"a spec may have at most {MAX_NODES:,} values",
                                  (mark.line + 1, mark.column + 1))
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise YamlBoundError(f"nested more than {MAX_DEPTH} levels deep",
                                  (mark.line + 1, mark.column + 1))
        node = loader.compose_node(parent, index)
        self.depth -= 1
        return node  # type: ignore[no-any-return]


class _BoundedLoader(_Bounds, yaml.SafeLoader):
    """PyYAML's own safe loader, all in Python: the reference, and the one whose messages
    errors are reported with."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._start_bounds()


_LIBYAML = getattr(yaml, "__with_libyaml__", False)
if _LIBYAML:
    from yaml._yaml import CParser

    class _FastLoader(_Bounds, Composer, CParser, SafeConstructor, Resolver):
        """The same composing over libyaml's events: libyaml reads and parses (in C, about
        a third of the time of reading a 999-component spec), the composer and its bounds
        stay the Python ones, so the nodes, their marks and the bounds are the same."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_bounds()


def _compose(text: str, loader_type: type[_Bounds]) -> tuple[yaml.Node | None,
                                                              dict[tuple[int, int], Position]]:
    """The document's root node and where its aliases are written."""
    loader: Any = loader_type(text)  # type: ignore[call-arg]
    try:
        return loader.get_single_node(), loader.aliases
    finally:
        loader.dispose()


def load_with_positions(text: str) -> tuple[Any, dict[Path, Position]]:
    """Parse YAML into plain data plus a map from each path to its line and column.

    For a mapping entry the position is that of its key (where a person looks for a field);
    for a list item it is the item itself. Duplicate keys are an error, not a silent overwrite.
    With libyaml, it parses in C; a document libyaml refuses is parsed again in Python, so
    that errors keep PyYAML's messages, which the hints below read. Python's parser takes
    an escape of a lone UTF-16 surrogate ("\\ud800"), which libyaml refuses: the value is
    read, and the loader refuses it at its field (`scalesim.spec.text`).
    """
    positions: dict[Path, Position] = {}
    try:
        try:
            if not _LIBYAML:
                raise yaml.YAMLError("libyaml is not installed")
            root, aliases = _compose(text, _FastLoader)
        except (yaml.YAMLError, UnicodeEncodeError):  # (not a YamlBoundError: the same in
            # both) libyaml reads UTF-8, so text holding a lone surrogate (a --set argument
            # that is not UTF-8) cannot even be handed to it
            root, aliases = _compose(text, _BoundedLoader)
        if root is None:
            return None, positions
        positions[()] = _position(root)
        return _Converter(positions, aliases).convert(root, ()), positions
    except yaml.MarkedYAMLError as error:  # syntax, or a value no constructor accepts
        mark = error.problem_mark or error.context_mark
        position = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        opened = _unclosed(error, position)
        position, hint = opened or _hint(text.splitlines(), position,
                                         str(error.problem or error))
        raise YamlSyntaxError(f"YAML syntax: {error.problem or error}{hint}", position) \
            from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        before = text[: error.position]
        position = (before.count("\n") + 1, len(before) - before.rfind("\n"))
        raise YamlSyntaxError(f"YAML syntax: character #x{error.character:04x} is not allowed",
                              position) from None


def _position(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Converter:
    """Nodes to plain data, counting values as aliases expand them (an alias repeats the
    whole subtree it names, so a few lines can stand for billions of values). A bound
    crossed inside an alias's expansion is reported at that alias as the document writes
    it (the outermost one being expanded), not at the anchor or deep inside it."""

    def __init__(self, positions: dict[Path, Position],
                 aliases: dict[tuple[int, int], Position]) -> None:
        self.positions = positions
        self.aliases = aliases
        self.nodes = 0
        self.via: Position | None = None  # the outermost alias being expanded

    def convert(self, node: yaml.Node, path: Path, alias: Position | None = None) -> Any:
        if alias is None or self.via is not None:
            return self._convert(node, path)
        self.via = alias
        try:
            return self._convert(node, path)
        finally:
            self.via = None

    def _bound(self, node: yaml.Node, message: str) -> YamlBoundError:
        return YamlBoundError(message, self.via or _position(node))

    def _convert(self, node: yaml.Node, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self._bound(node, f"a spec may have at most {MAX_NODES:,} values once its "
                              "aliases are expanded")
        if len(path) >= MAX_DEPTH:
            raise self._bound(node, f"nested more than {MAX_DEPTH} levels deep once its "
                              "aliases are expanded")
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node, merged in _entries(node):
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlSyntaxError("a mapping key must be a plain value",
                                          _position(key_node))
                # Keys stay text: YAML 1.1 would read a retry's `on:` as the boolean true.
                key = key_node.value
                if key in result:
                    if merged:  # the mapping's own key, or an earlier merge's, wins
                        continue
                    raise YamlSyntaxError(f"duplicate key '{key}'", _position(key_node))
                child = (*path, key)
                self.positions[child] = merged or _position(key_node)
                result[key] = self.convert(value_node, child,
                                           merged or self.aliases.get(_slot(node, key_node)))
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item_node in enumerate(node.value):
                child = (*path, index)
                self.positions[child] = _position(item_node)
                items.append(self.convert(item_node, child,
                                          self.aliases.get(_slot(node, index))))
            return items
        try:
            return _CONSTRUCTOR.construct_object(node, deep=True)
        except ValueError as error:  # e.g. an integer of more digits than Python converts
            reason = str(error).split(";")[0]
            raise YamlSyntaxError(f"cannot read this value: {reason}", _position(node)) from None


class _TextDates(yaml.SafeLoader):
    """PyYAML's safe constructor, but a YAML 1.1 date or time (`2001-12-14`) stays the text
    written: no field takes a date, and a message about one showed Python's
    `datetime.date(2001, 12, 14)` instead of what the person wrote."""


def _as_written(_: _TextDates, node: yaml.Node) -> str:
    return str(node.value)


_TextDates.add_constructor("tag:yaml.org,2002:timestamp", _as_written)
_CONSTRUCTOR = _TextDates("")
_MERGE = "tag:yaml.org,2002:merge"
Entry = tuple[yaml.Node, yaml.Node, Position | None]


def _entries(node: yaml.MappingNode) -> list[Entry]:
    """A mapping's entries with YAML 1.1 merge keys (`<<: *defaults`, `<<: [*a, *b]`)
    expanded: its own keys first, then each merged mapping's in order, so that the first
    of a key wins. A merged entry carries the place of its `<<`, where it is reported."""
    return _Merging().entries(node, None, ())


class _Merging:
    """Expands merge keys within the bounds: a mapping that merges itself is an error, and
    merges of merges count against MAX_NODES (a few lines could stand for billions)."""

    def __init__(self) -> None:
        self.count = 0

    def entries(self, node: yaml.MappingNode, merged: Position | None,
                chain: tuple[int, ...]) -> list[Entry]:
        own: list[Entry] = []
        taken: list[Entry] = []
        for key_node, value_node in node.value:
            self.count += 1
            if self.count > MAX_NODES:
                raise YamlBoundError(f"a spec may have at most {MAX_NODES:,} values once its "
                                     "merge keys are expanded", merged or _position(key_node))
            if key_node.tag != _MERGE:
                own.append((key_node, value_node, merged))
                continue
            at = merged or _position(key_node)
            many = isinstance(value_node, yaml.SequenceNode)
            for source in value_node.value if many else [value_node]:
                if not isinstance(source, yaml.MappingNode):
                    raise YamlSyntaxError("'<<' merges a mapping or a list of mappings into "
                                          "this one (<<: *defaults, <<: [*a, *b])",
                                          _position(source))
                if id(source) in (id(node), *chain):
                    raise YamlSyntaxError("'<<' merges a mapping into itself", at)
                taken += self.entries(source, at, (*chain, id(node)))
        return own + taken


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


_OPENERS = {"flow mapping": ("{", "}"), "flow sequence": ("[", "]")}


def _unclosed(error: yaml.MarkedYAMLError, failed: Position) -> tuple[Position, str] | None:
    """Where a quote, '{' or '[' that is never closed opens, and what to do: the parser
    fails at the end of the file or lines below, where nothing is wrong; None for other
    errors. A '{…}' failing on its own line is missing a comma there."""
    mark, context, problem = error.context_mark, error.context or "", str(error.problem)
    if mark is None:
        return None
    opened = (mark.line + 1, mark.column + 1)
    if "quoted scalar" in context and "end of stream" in problem:
        return opened, " (the quote that opens here is never closed: end the text with the " \
                       "same quote)"
    for kind, (opener, closer) in _OPENERS.items():
        if kind not in context or not problem.startswith("expected ','"):
            continue
        if opened[0] == failed[0] and "<stream end>" not in problem:
            return failed, f" (write ',' between the entries of '{opener}…{closer}')"
        until = "never closed" if "<stream end>" in problem else \
            f"not closed before line {failed[0]}"
        return opened, (f" (the '{opener}' here is {until}: end it with '{closer}', or write "
                        f"the entries below as a block without '{opener}')")
    return None


def _two_keys(here: str, line: int, column: int) -> tuple[Position, str] | None:
    """`get: work: 1ms`: a second key on a key's line, which PyYAML refuses at its colon."""
    before = here[: column - 1]
    if ": " not in before:
        return None
    first, second = before.split(": ", 1)
    key, inner = first.strip().lstrip("- "), second.strip()
    start = column - len(second.lstrip()) if second.strip() else column
    return (line, start), (
        f" (line {line} has two keys, '{key}:' and '{inner}:': put '{inner}: …' on a line of "
        f"its own, indented under '{key}:', or write '{key}: {{{inner}: …}}')")


def _block_of(lines: list[str], line: int) -> tuple[int, int] | None:
    """For a line that fails to continue its block: the line of the key it belongs under
    and the first line under that key, when that one is indented otherwise."""
    depth = _indent(lines[line - 1])
    content = [n for n in range(line - 1, 0, -1)
               if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith("#")]
    parent = next((n for n in content if _indent(lines[n - 1]) < depth), 0)
    first = next((n for n in reversed(content) if n > parent), 0)
    if not parent or not first or _indent(lines[first - 1]) <= depth:
        return None
    return parent, first


def _misaligned(lines: list[str], line: int) -> tuple[Position, str] | None:
    """Keys under one key that start at different columns: the first of them is blamed when
    the failing line is indented one step under the key, like the file's other levels."""
    block = _block_of(lines, line)
    if block is None:
        return None
    parent, first = block
    key = lines[parent - 1].strip().split(":", 1)[0].lstrip("- ")
    here, wide = _indent(lines[line - 1]) + 1, _indent(lines[first - 1]) + 1
    upper = next((n for n in range(parent - 1, 0, -1) if lines[n - 1].strip()
                  and _indent(lines[n - 1]) < _indent(lines[parent - 1])), 0)
    step = _indent(lines[parent - 1]) - (_indent(lines[upper - 1]) if upper else 0)
    alike = "keys beside each other start at the same column"
    if step > 0 and here - 1 - _indent(lines[parent - 1]) == step:
        return (first, wide), (f" (line {first} is indented more than line {line}, though "
                               f"both are under '{key}:' (line {parent}): {alike})")
    return (line, here), (f" (line {line} starts at column {here}, left of line {first} "
                          f"(column {wide}), though both are under '{key}:' (line {parent}): "
                          f"{alike})")


def _hint(lines: list[str], position: Position, problem: str) -> tuple[Position, str]:
    """Where the mistake most likely is, and what to do, for the errors indentation and
    tabs cause (PyYAML reports where parsing failed, often the line after the mistake)."""
    line = position[0]
    if "'\\t'" in problem or "\t" in problem:
        return position, " (indent with spaces: YAML does not allow tabs there)"
    if not 1 <= line <= len(lines):
        return position, ""
    above = next((n for n in range(line - 1, 0, -1)
                  if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith("#")), 0)
    here = lines[line - 1]
    if "mapping values are not allowed" in problem:
        two = _two_keys(here, line, position[1])
        if two is not None:
            return two
    if "mapping values are not allowed" in problem and above:
        previous = lines[above - 1]
        if ":" not in previous.split("#", 1)[0] and not previous.lstrip().startswith("-"):
            key = previous.strip().split(" ", 1)[0]
            return (above, _indent(previous) + 1), (
                f" (line {above} has no ':' after '{key}', so YAML read it and line {line} "
                f"as one text; write '{key}: ...')")
        if _indent(here) > _indent(previous):
            return (line, _indent(here) + 1), (
                f" (line {line} is indented more than line {above}, so YAML read it as the "
                f"rest of line {above}'s value; align it with the key it belongs beside)")
    if "expected <block end>" in problem or "did not find expected key" in problem:
        levels = sorted({_indent(lines[n]) + 1 for n in range(line - 1)
                         if lines[n].strip() and not lines[n].lstrip().startswith("#")})
        start = _indent(here) + 1
        misaligned = _misaligned(lines, line)
        if misaligned is not None and misaligned[0][0] != line:  # an earlier line is wrong
            return misaligned
        if start not in levels:
            return (line, start), (
                f" (line {line} starts at column {start}, which lines up with no key above "
                f"it (columns {', '.join(map(str, levels[-4:]))}): indent it like the key it "
                "belongs beside)")
        if here.lstrip().startswith("-"):
            return (line, start), (
                f" (line {line} starts a list item among the keys of a mapping: a list needs "
                "a key of its own, e.g. 'calls:', with its items indented under it)")
        if misaligned is not None:
            return misaligned
    return position, ""
