"""Who may talk to the studio: a token on every API call when it listens beyond loopback,
only local Host names when it listens on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from scalesim.studio.config import LOOPBACK_HOSTS, is_loopback
from scalesim.studio.server import config_for, studio_url


@pytest.mark.parametrize("host,local", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                        ("[::1]", True), ("127.0.0.2", True),
                                        ("0.0.0.0", False), ("192.168.1.5", False),
                                        ("::", False), ("example.org", False)])
def test_loopback(host: str, local: bool) -> None:
    assert is_loopback(host) is local


def test_non_loopback_gets_a_fresh_token_loopback_none() -> None:
    wide = config_for("0.0.0.0", "sqlite://", 2, 60)
    other = config_for("0.0.0.0", "sqlite://", 2, 60)
    assert wide.token and len(wide.token) >= 24 and wide.token != other.token
    assert wide.allowed_hosts is None
    local = config_for("127.0.0.1", "sqlite://", 2, 60)
    assert local.token is None and local.allowed_hosts is not None
    assert studio_url("0.0.0.0", 8765, wide.token) == f"http://127.0.0.1:8765/?token={wide.token}"
    assert studio_url("::1", 9000, None) == "http://[::1]:9000/"


def test_every_api_call_checks_the_token(studio: Callable[..., TestClient]) -> None:
    client = studio(token="s3cret-token")
    for method, route in [("GET", "/api/health"), ("GET", "/api/templates"),
                          ("POST", "/api/validate"), ("GET", "/api/runs/x/events"),
                          ("DELETE", "/api/designs/x")]:
        response = client.request(method, route, json={"spec": "x"} if method == "POST" else None)
        assert response.status_code == 401, route
        assert "token" in response.json()["error"]
    wrong = client.get("/api/health", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get("/api/health", headers={"Authorization": "Bearer s3cret-token"}
                      ).status_code == 200
    assert client.get("/api/health?token=s3cret-token").status_code == 200  # EventSource
    assert client.get("/").status_code == 200  # the page loads, then asks with the token


def test_loopback_refuses_foreign_host_names(studio: Callable[..., TestClient]) -> None:
    client = studio(allowed_hosts=LOOPBACK_HOSTS)
    assert client.get("/api/health", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    for host in ("evil.example:8765", "evil.com", "[::1", ""):
        refused = client.get("/api/health", headers={"Host": host})
        assert refused.status_code == 400, host
        assert refused.headers["content-type"] == "application/json"
        assert "host names" in refused.json()["error"]
    assert client.get("/", headers={"Host": "evil.com"}).json()["error"].startswith("refused")
    for host in ("localhost", "LOCALHOST:1", "[::1]:8765"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200, host
