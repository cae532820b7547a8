"""Escaping of user-controlled text for each output language.

Names in a spec are restricted, but descriptions, operation labels in results and anything a
caller passes are not; every writer goes through these so no text can break out of a quoted
string or inject markup. HTML and SVG use markupsafe (Jinja2's autoescape).
"""

from __future__ import annotations

# Mermaid decodes "#NN;" entity codes inside labels; these characters would otherwise end a
# quoted label, start markup or a comment, or end a statement.
_MERMAID = {ch: f"#{ord(ch)};" for ch in '"<>&#;`|\\'}


def dot_string(text: str) -> str:
    """A Graphviz double-quoted string, quotes included. Backslashes are doubled so label
    escapes like \\N or \\l cannot be injected; line breaks become centred \\n."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + body.replace("\r", "").replace("\n", "\\n") + '"'


def dot_label(lines: tuple[str, ...] | list[str]) -> str:
    """Several lines as one DOT label (each escaped, joined by centred line breaks)."""
    return '"' + "\\n".join(dot_string(line)[1:-1] for line in lines) + '"'


def mermaid_text(text: str) -> str:
    """Text for inside a quoted Mermaid label or a sequence message: no character of it can
    end the label or the line."""
    flat = " ".join(text.split())
    return "".join(_MERMAID.get(ch, ch) for ch in flat)
