"""The generated serving side (server.py) in a service's own process, through FastAPI's test
client: what a request's headers may and may not do."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from tests.generate.code._support import PAIR_SPEC, generate, run_in_service


@pytest.fixture(scope="module")
def back(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(PAIR_SPEC, tmp_path_factory.mktemp("server")) / "back"


def answers(back: Path, deadlines: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(status, body) of POST /get with each x-scalesim-deadline-ms value."""
    script = f"""
        import json

        from fastapi.testclient import TestClient

        from app import app

        with TestClient(app) as client:
            for value in {deadlines!r}:
                answer = client.post("/get", headers={{"x-scalesim-deadline-ms": value}})
                print(json.dumps([answer.status_code, answer.json()]))
        """
    return [tuple(json.loads(line)) for line in run_in_service(back, textwrap.dedent(script))]




def test_a_deadline_header_must_be_finite_non_negative_milliseconds(back: Path) -> None:
    # A malformed header is the caller's error (400, naming the header), never a 500; a
    # well-formed one, 0 included (no time left), is taken.
    malformed = ["soon", "nan", "inf", "-5", "", "1e400"]
    results = answers(back, [*malformed, "250", "0.5", "0"])
    for (status, body), value in zip(results, malformed, strict=False):
        assert status == 400, value
        assert body["outcome"] == "bad_request"
        assert "x-scalesim-deadline-ms" in body["detail"], body
    assert [status for status, _ in results[len(malformed):]] == [200, 200, 200]
