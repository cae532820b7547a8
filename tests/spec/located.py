"""The check every table of bad settings shares: a located error, not just any error."""

from __future__ import annotations

import pytest

from scalesim.spec import SpecError, load_spec_text


def assert_located_error(text: str, path: str, message: str) -> None:
    """Loading `text` fails with an issue on a real line whose path contains `path` and
    whose message contains `message`."""
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "s.yaml")
    issues = [issue for issue in caught.value.issues if path in issue.path]
    assert issues, str(caught.value)
    assert any(message in issue.message for issue in issues), str(caught.value)
    assert all(issue.line > 0 for issue in issues)
