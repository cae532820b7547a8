"""Tables that never cut a name: a rich table when every column fits the terminal, else one
block per row (the name on its own line, then `column value` pairs packed into lines that
break between pairs). Names are what a person acts on, so they are never truncated.

A value that is one word too long for a line (a URL, a long id) gets a line of its own that
is never wrapped: print the result with `crop=False` so the terminal, not rich, folds it
and a copied link stays whole."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

Cell = str | Text


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = True  # numbers are right-aligned; names and words are not


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def natural_width(columns: list[Column], rows: list[list[Cell]]) -> int:
    """The width a rich table (heavy head, one space of padding) takes without shrinking."""
    widths = [max([cell_len(c.header), *(max((cell_len(line) for line in
                                              _plain(row[i]).split("\n")), default=0)
                                         for row in rows)])
              for i, c in enumerate(columns)]
    return sum(w + 2 for w in widths) + len(columns) + 1


def fitted(title: str, columns: list[Column], rows: list[list[Cell]],
           width: int) -> RenderableType:
    """`rows` as a table if it fits in `width` columns, else as stacked blocks."""
    if natural_width(columns, rows) <= width:
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column.header, justify="right" if column.right else "left",
                             no_wrap=True)
        for row in rows:
            table.add_row(*row)
        return table
    blocks: list[RenderableType] = [Text(title, style="italic")]
    indent = 4
    for row in rows:
        name = row[0].copy() if isinstance(row[0], Text) else Text(row[0])
        name.stylize("bold")
        lines = [Text()]
        for column, cell in zip(columns[1:], row[1:], strict=True):
            if not _plain(cell):
                continue
            pair = Text(f"{column.header} ", style="dim")
            pair.append(cell if isinstance(cell, Text) else Text(cell.replace("\n", "; ")))
            line = lines[-1]
            if line and (cell_len(line.plain) + 2 + cell_len(pair.plain) > width - indent
                         or max(map(cell_len, pair.plain.split())) > width - indent):
                line = Text()
                lines.append(line)
            if line:
                line.append("  ")
            line.append(pair)
        blocks.append(Padding(name, (0, 0, 0, 2), expand=False))
        blocks += [indented(line, indent, width) for line in lines]
    return Group(*blocks)


def indented(line: Text, indent: int, width: int) -> RenderableType:
    """`line` indented; a line holding one over-long word is left unwrapped instead."""
    words = line.plain.split()
    if cell_len(line.plain) + indent > width and words and \
            max(cell_len(w) for w in words) + indent > width:
        whole = Text(" " * indent, no_wrap=True, overflow="ignore")
        whole.append(line)
        return whole
    return Padding(line, (0, 0, 0, indent), expand=False)
