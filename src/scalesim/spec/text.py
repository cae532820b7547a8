"""Text that UTF-8 can carry: a lone UTF-16 surrogate is refused wherever text comes in.

YAML's and JSON's escapes can spell a lone surrogate ("\\ud800"), and a command-line argument
that is not UTF-8 is decoded into one; Python keeps it in a str, but no file, page or
database written as UTF-8 can hold it, so each output would fail at its first write.
"""

from __future__ import annotations

from typing import Any

from scalesim.spec.errors import Path


def unicode_problem(text: str) -> str | None:
    """Why `text` is not Unicode that UTF-8 can carry (a lone UTF-16 surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return (f"not valid Unicode text: a lone UTF-16 surrogate "
                f"(\\u{ord(text[error.start]):04x}) at character {error.start}")
    return None


def unencodable(data: Any) -> list[tuple[Path, str]]:
    """(path, why) of every key and text value in parsed data (mappings, lists, scalars)
    that UTF-8 cannot carry, in document order; a key's path ends with the key."""
    found: list[tuple[Path, str]] = []
    stack: list[tuple[Path, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = unicode_problem(value)
            if problem is not None:
                found.append((path, problem))
        elif isinstance(value, dict):
            for key in value:
                problem = unicode_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    found.append(((*path, key), f"this key is {problem}"))
            stack.extend(((*path, key), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in reversed(list(enumerate(value))))
    return found
