"""The Compose target's system, run as Compose would run it, but as processes on localhost:
no Docker engine runs here.

Each Compose service starts from its build context the way its Dockerfile's command does
(uvicorn app:app on $PORT), with exactly the environment the Compose file gives it, except
that each host name becomes 127.0.0.1 and each service its own port (all listen on 8080 in
Compose, on separate hosts). A request to the entry point must then go through the whole
chain: gateway, service, a cache that misses to a PostgreSQL stand-in, an external API, a
Kafka stand-in and its consumer, which writes to a MySQL stand-in. Before, Compose pointed
the HTTP clients at redis:// and postgresql:// and every such call failed with 502.
"""

from __future__ import annotations

import posixpath
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import yaml
from tests.generate.code._support import Process, listener, running

from scalesim.generate import GenerateOptions, Target, render
from scalesim.spec import load_spec_text

CHAIN = """
scalesim: 1
name: chain
components:
  edge:
    kind: gateway
    operations:
      buy:
        calls:
          - to: orders.create
            timeout: 5s
          - {to: events.publish, async: true}
  orders:
    workers: 4
    operations:
      create:
        calls:
          - parallel:
              wait_for: all
              calls:
                - {to: catalog.get, timeout: 5s}
                - {to: payments.charge, timeout: 5s}
  catalog:
    kind: cache
    tech: redis
    hit_ratio: 0%
    backend: db.query
    operations: {get: {work: 1ms}}
  db:
    kind: database
    tech: postgres
    workers: 4
    operations: {query: {work: 1ms}}
  payments:
    kind: external
    operations: {charge: {work: 2ms}}
  events:
    kind: queue
    tech: kafka
    consumers: [{to: mailer.send, concurrency: 2}]
  mailer:
    operations:
      send: {calls: [{to: archive.store}]}
  archive:
    kind: database
    tech: mysql
    operations: {store: {work: 1ms}}
workloads: [{name: shoppers, to: edge.buy, rate: 1/s}]
"""
REQUESTS = 5


def served(metrics: str, operation: str) -> float:
    """Requests of `operation` answered ok, from a service's /metrics."""
    match = re.search(rf'^scalesim_requests_total\{{operation="{operation}",outcome="ok"\}} '
                      r"(\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.mark.slow
def test_a_request_goes_through_the_whole_chain_as_compose_wires_it(tmp_path: Path) -> None:
    for file in render(load_spec_text(CHAIN), Target.COMPOSE, GenerateOptions()):
        (tmp_path / file.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file.path).write_text(file.content, encoding="utf-8")
    compose = yaml.safe_load((tmp_path / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    sockets = {name: listener() for name in services}
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}

    def local(value: str) -> str:
        """A Compose address (http://<service>:8080) on localhost, where that service runs."""
        address = urlparse(value)
        if address.hostname not in services:
            return value
        return value.replace(f"//{address.hostname}:{address.port}",
                             f"//127.0.0.1:{ports[address.hostname]}")

    processes = []
    for name, service in services.items():
        context = posixpath.join("compose", service["build"]["context"])
        env = {key: local(value) for key, value in service["environment"].items()}
        env["PORT"] = str(ports[name])
        processes.append(Process(name, tmp_path / posixpath.normpath(context), sockets[name],
                                 env))
    entries = [name for name, service in services.items() if "ports" in service]
    assert entries == ["edge"]
    with running(processes, tmp_path) as urls, httpx.Client(timeout=10.0) as client:
        answers = [client.post(f"{urls['edge']}/buy") for _ in range(REQUESTS)]
        assert [answer.status_code for answer in answers] == [200] * REQUESTS, \
            [answer.text for answer in answers]
        # Every component served every request; the queue's deliveries are asynchronous.
        expected = {"orders": "create", "catalog": "get", "db": "query", "payments": "charge",
                    "events": "publish", "mailer": "send", "archive": "store"}
        deadline = time.monotonic() + 10.0
        while True:
            counts = {name: served(client.get(f"{urls[name]}/metrics").text, operation)
                      for name, operation in expected.items()}
            if all(count == REQUESTS for count in counts.values()) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert counts == dict.fromkeys(expected, REQUESTS)
