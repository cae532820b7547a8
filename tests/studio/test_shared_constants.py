"""Numbers the front end must hold as the server does: the layout bounds the API validates
(a position the canvas sends past them is refused, and the canvas clamps to them first) and
the diagnosis's rule for a queue that falls behind (the replay marks the same intervals the
summary blames). TypeScript cannot import them from Python, so each is written in both; this
reads the TypeScript and holds the two to one value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scalesim.diagnosis import context
from scalesim.spec import types
from scalesim.studio import specs
from scalesim.studio.routes import catalog, designs

MODEL = Path(__file__).resolve().parents[2] / "frontend" / "src" / "model"
SHARED = [("layout.ts", "MAX_NODE_ID", designs.MAX_NODE_ID),
          ("limits.ts", "MAX_NAME", types.MAX_NAME),
          ("limits.ts", "MAX_QUERY", catalog.MAX_QUERY),
          ("layout.ts", "MAX_COORDINATE", designs.MAX_COORDINATE),
          ("replay.ts", "BACKLOG_S", context.BACKLOG_S),
          ("replay.ts", "MIN_BACKLOG", context.MIN_BACKLOG)]


@pytest.mark.parametrize(("source", "name", "python"), SHARED,
                         ids=[name for _, name, _ in SHARED])
def test_the_front_end_holds_the_servers_value(source: str, name: str, python: float) -> None:
    text = (MODEL / source).read_text()
    found = re.findall(rf"^(?:export )?const {name} = ([0-9_.]+);", text, re.MULTILINE)
    assert len(found) == 1, f"{source} defines {name} once, as a number"
    assert float(found[0].replace("_", "")) == python


def test_the_front_end_rewords_the_servers_way_to_force_a_run() -> None:
    """The page replaces the refusal's '"force": true' with its own words: only while it
    holds the server's text does the API's wording stay out of the page."""
    text = (MODEL / "budget.ts").read_text()
    found = re.findall(r"^export const FORCE_IN_API = '([^']*)';", text, re.MULTILINE)
    assert found == [specs.FORCE]
