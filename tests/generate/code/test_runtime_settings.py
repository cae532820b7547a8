"""The settings file (SCALESIM_SETTINGS, the ConfigMap of the Kubernetes and Helm targets)
read by a generated service at startup, and the connection pools sized from what it sets.

The file is the k8s target's own `component.json` (scalesim.generate.kubernetes.settings),
so these tests hold the two generators to one format.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.generate.code._support import PAIR_SPEC, generate, run_in_service
from tests.generate.code.test_golden import SPEC as GOLDEN_SPEC

from scalesim.generate import GeneratedFile, GenerateOptions, Target
from scalesim.generate import render as render_target
from scalesim.generate.kubernetes import settings as settings_of
from scalesim.generate.naming import SETTINGS_FILE
from scalesim.spec import load_spec_text
from scalesim.templates import TEMPLATES

# Turns the objects the settings file may change into plain data (clocks, locks and the
# second a window started are not settings), then compares before and after.
FINGERPRINT = """
import asyncio
import json
import sys

from app import app
from settings import SettingsError

SKIP = {"clock", "last", "last_second", "open_until", "half_open_since", "ring", "buckets"}


def plain(value, depth=0):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, asyncio.Queue):
        return ["Queue", value.maxsize]
    if isinstance(value, (list, tuple)):
        return [plain(item, depth + 1) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return {str(key): plain(item, depth + 1) for key, item in value.items()}
    if callable(value) or depth > 8:
        return None
    fields = getattr(value, "__dict__", None) or {
        name: getattr(value, name) for name in getattr(value, "__slots__", ())}
    return [type(value).__name__, {key: plain(item, depth + 1)
                                   for key, item in fields.items() if key not in SKIP}]


settings = app.state.settings


def fingerprint():
    return json.dumps(plain([settings.operations, settings.calls, settings.miss,
                             settings.subscriptions]), sort_keys=True)
"""


def settings_file(spec: str, component: str, tmp_path: Path,
                  change: Any = None) -> Path:
    """The k8s target's settings of `component`, changed by `change(data)`, in a file."""
    data = settings_of(load_spec_text(spec), component)
    if change is not None:
        change(data)
    path = tmp_path / f"{component}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(GOLDEN_SPEC, tmp_path_factory.mktemp("settings-golden"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(PAIR_SPEC, tmp_path_factory.mktemp("settings-pair"))


@pytest.mark.parametrize("component", ["api-gw", "catalog", "db", "jobs"])
def test_the_generated_settings_file_gives_back_the_numbers_in_app_py(
        golden: Path, component: str, tmp_path: Path) -> None:
    # Every operation, call (with retries, breakers, bulkheads, fallbacks), a cache's miss
    # and a queue's subscription: the file the k8s target writes changes nothing.
    path = settings_file(GOLDEN_SPEC, component, tmp_path)
    script = FINGERPRINT + f"""
before = fingerprint()
settings.apply_file({str(path)!r})
print(before == fingerprint(), len(before))
"""
    (line,) = run_in_service(golden / component, script)
    same, size = line.split()
    assert same == "True" and int(size) > 500  # a fingerprint with the settings in it


TTL_CACHE_SPEC = """
scalesim: 1
name: ttl
components:
  app:
    operations:
      view: {work: 1ms, calls: [{to: catalog.get}]}
  catalog:
    kind: cache
    backend: products.read
    caching: {ttl: 30s}
    operations:
      get: {work: 1ms}
  products:
    kind: database
    operations:
      read: {work: 2ms}
workloads: [{name: readers, to: app.view, rate: 1/s}]
"""


def test_a_ttl_caches_own_settings_file_keeps_every_read_loading(tmp_path: Path) -> None:
    # A cache with `caching` has no hit_ratio; its stand-in keeps no entries, so every read
    # loads the backend (docs/generate.md), with or without the file.
    code = generate(TTL_CACHE_SPEC, tmp_path)
    path = settings_file(TTL_CACHE_SPEC, "catalog", tmp_path)
    assert "hit_ratio" not in json.loads(path.read_text())
    script = FINGERPRINT + f"""
before = fingerprint()
settings.apply_file({str(path)!r})
print(before == fingerprint(), settings.miss.probability)
"""
    assert run_in_service(code / "catalog", script) == ["True 1.0"]


def test_a_changed_settings_file_changes_the_service_at_startup(
        pair: Path, tmp_path: Path) -> None:
    def failing_back(data: dict[str, Any]) -> None:
        data["workers"] = 3
        data["operations"]["get"]["error_rate"] = 1.0
        data["operations"]["get"]["work"] = {"dist": "exponential", "mean": 0.002}

    def patient_front(data: dict[str, Any]) -> None:
        call = data["effective_calls"][0]
        call["timeout"] = 0.7
        call["retry"]["attempts"] = 5
        del call["circuit_breaker"]

    back = settings_file(PAIR_SPEC, "back", tmp_path, failing_back)
    lines = run_in_service(pair / "back", textwrap.dedent("""
        from fastapi.testclient import TestClient

        from app import app

        with TestClient(app) as client:
            answer = client.post("/get")
            get = app.state.settings.operations["get"]
            print(answer.status_code, get.workers.limit, type(get.work).__name__)
        """), env={"SCALESIM_SETTINGS": str(back)})
    assert lines == ["500 3 Exponential"]
    front = settings_file(PAIR_SPEC, "front", tmp_path, patient_front)
    lines = run_in_service(pair / "front", textwrap.dedent("""
        from fastapi.testclient import TestClient

        from app import app

        with TestClient(app):
            (call,) = app.state.settings.calls
            print(call.timeout, call.retry.attempts, call.breaker)
        """), env={"SCALESIM_SETTINGS": str(front)})
    assert lines == ["0.7 5 None"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(operations={"other": {}}),
     "operations: names ['other'], but this service's code has ['order']"),
    (lambda d: d.update(workers=0), "workers: must be a whole number >= 1, not 0"),
    (lambda d: d["effective_calls"][0]["retry"].update(on=["sometimes"]),
     "effective_calls[0].retry.on[0]: must be one of timeout, rejected, error"),
    (lambda d: d["effective_calls"][0].update(target="elsewhere.get"),
     "effective_calls[0]: goes to 'elsewhere.get', the code's call here to 'back.get'"),
    (lambda d: d["effective_calls"][0].update(timeout="2s"),
     "effective_calls[0].timeout: must be a number, not '2s'"),
    (lambda d: d["operations"]["order"].update(work={"dist": "weibull"}),
     "operations.order.work.dist: must be one of constant, exponential"),
    (lambda d: d.update(effective_calls=[]), "effective_calls: has 0 calls, this service's "
     "code 1"),
    (lambda d: d["operations"]["order"].update(cpu=0.002),
     "operations.order: gives both 'cpu' and its shorthand 'work'"),
    (lambda d: d.update(cores=-1), "cores: must be between 0 and inf, not -1"),
])
def test_a_settings_file_that_does_not_fit_names_the_file_and_the_field(
        pair: Path, tmp_path: Path, change: Any, message: str) -> None:
    path = settings_file(PAIR_SPEC, "front", tmp_path, change)
    lines = run_in_service(pair / "front", FINGERPRINT + f"""
try:
    settings.apply_file({str(path)!r})
except SettingsError as error:
    print(error)
""")
    assert lines[0].startswith(f"SCALESIM_SETTINGS={path}: {message}"), lines


def test_an_unreadable_settings_file_stops_the_service_at_startup(
        pair: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{workers: 3", encoding="utf-8")
    script = textwrap.dedent("""
        import os

        from fastapi.testclient import TestClient

        from app import app
        from settings import SettingsError

        for path in (os.environ["BROKEN"], os.environ["MISSING"]):
            os.environ["SCALESIM_SETTINGS"] = path
            try:
                with TestClient(app):
                    print("started")
            except SettingsError as error:
                print(error)
        """)
    missing = tmp_path / "missing.json"
    lines = run_in_service(pair / "front", script, env={"BROKEN": str(broken),
                                                        "MISSING": str(missing)})
    assert lines[0].startswith(f"SCALESIM_SETTINGS={broken}: not JSON")
    assert lines[1] == f"SCALESIM_SETTINGS={missing}: cannot be read: No such file or directory"


POOL_SPEC = """
scalesim: 1
name: pools
components:
  front:
    workers: 150
    operations:
      go:
        calls:
          - to: back.get
          - {to: back.get, bulkhead: {max_concurrent: 10}}
          - {to: side.get, async: true, bulkhead: {type: threadpool, size: 6}}
          - {to: capped.get}
          - {to: multiplexed.get}
  loop:
    io: nonblocking
    workers: 4
    operations:
      go:
        calls:
          - to: back.get
          - {to: side.get, bulkhead: {max_concurrent: 9}}
  back: {workers: unlimited, operations: {get: {work: 1ms}}}
  side: {operations: {get: {work: 1ms}}}
  capped:
    connection_pool: {max_connections: 50, max_requests: 30, max_pending_requests: 5}
    operations: {get: {work: 1ms}}
  multiplexed:
    connection_pool: {http2: true, max_requests: 40}
    operations: {get: {work: 1ms}}
  jobs:
    kind: queue
    consumers: [{to: capped.get, concurrency: 7}, {to: capped.get, concurrency: 5}]
workloads: [{name: w, to: front.go, rate: 1/s}]
"""

POOLS = """
from fastapi.testclient import TestClient

from app import app
from downstream import TRANSPORT

with TestClient(app):
    print(sorted((name, pool.limits.max_connections,
                  None if pool.gate is None else pool.gate.max_queue)
                 for name, pool in TRANSPORT.pools.items()))
"""


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(POOL_SPEC, tmp_path_factory.mktemp("pools"))


@pytest.mark.parametrize(("component", "expected"), [
    # Blocking workers hold a call each (150, twice), a bulkhead fewer (10); an async call
    # is bounded by its bulkhead only; a connection_pool is Envoy's limits: min(connections,
    # requests) with the pending queue on HTTP/1.1, max_requests and no queue on HTTP/2.
    ("front", [("back", 160, None), ("capped", 30, 5), ("multiplexed", 40, 0),
               ("side", 6, None)]),
    # Nonblocking io lets go of the worker while calling: only a bulkhead bounds a call.
    ("loop", [("back", None, None), ("side", 9, None)]),
    # A queue's deliveries are not calls (no connection_pool): one per delivery worker.
    ("jobs", [("capped", 12, None)]),
])
def test_connection_pools_hold_every_call_the_spec_allows_at_once(
        pools: Path, component: str, expected: list[tuple[str, int | None, int | None]],
) -> None:
    assert run_in_service(pools / component, POOLS) == [repr(expected)]


def test_pools_follow_the_workers_the_settings_file_sets(pools: Path, tmp_path: Path) -> None:
    path = settings_file(POOL_SPEC, "front", tmp_path, lambda data: data.update(workers=300))
    lines = run_in_service(pools / "front", POOLS, env={"SCALESIM_SETTINGS": str(path)})
    assert lines == [repr([("back", 310, None), ("capped", 30, 5), ("multiplexed", 40, 0),
                           ("side", 6, None)])]


def test_the_settings_file_carries_the_cpu_model(pair: Path, tmp_path: Path) -> None:
    # cpu, wait and cores reach the running service: with cores, work computes too.
    def computing_back(data: dict[str, Any]) -> None:
        data["cores"] = 1
        data["event_loop"] = True
        del data["operations"]["get"]["work"]
        data["operations"]["get"].update(cpu=0.003, wait={"dist": "exponential",
                                                          "mean": 0.002})

    back = settings_file(PAIR_SPEC, "back", tmp_path, computing_back)
    lines = run_in_service(pair / "back", textwrap.dedent("""
        from fastapi.testclient import TestClient

        from app import app

        with TestClient(app):
            get = app.state.settings.operations["get"]
            print(get.cpu.value, type(get.wait).__name__, get.computes)
        """), env={"SCALESIM_SETTINGS": str(back)})
    assert lines == ["0.003 Exponential True"]


def test_behind_the_mesh_a_call_tries_once_and_leaves_retries_to_the_sidecar(
        pair: Path, tmp_path: Path) -> None:
    """The generated Istio route retries the call (attempts − 1, per-try timeout): a service
    that retried too would multiply the tries (3 × 3 = 9 for a spec's 3). With
    SCALESIM_RETRIES=mesh, which the Kubernetes and Helm targets set when the routes are
    generated with them, the call keeps no retry and no per-attempt timeout of its own."""
    front = settings_file(PAIR_SPEC, "front", tmp_path)
    script = textwrap.dedent("""
        from fastapi.testclient import TestClient

        from app import app

        with TestClient(app):
            (call,) = app.state.settings.calls
            print(call.timeout, call.retry is None)
        """)
    own = run_in_service(pair / "front", script, env={"SCALESIM_SETTINGS": str(front)})
    meshed = run_in_service(pair / "front", script, env={"SCALESIM_SETTINGS": str(front),
                                                         "SCALESIM_RETRIES": "mesh"})
    assert own[0].split()[1] == "False" and own[0].split()[0] != "None"
    assert meshed == ["None True"]


# Loads every generated service in turn in one process (the runtime's own modules purged
# between them: each service has its own copies) and applies its settings file.
APPLY_EACH = """
import json
import os
import sys

folders = json.loads(sys.argv[1])
generated = {folder for folder, _ in folders}
for folder, path in folders:
    for name in [name for name, module in sys.modules.items()
                 if os.path.dirname(getattr(module, "__file__", None) or "") in generated]:
        del sys.modules[name]
    sys.path.insert(0, folder)
    try:
        from app import app
        app.state.settings.apply_file(path)
    except Exception as error:
        print(f"{folder}: {error}")
    finally:
        sys.path.remove(folder)
"""


def configmap_settings(files: list[GeneratedFile], dest: Path) -> dict[str, Path]:
    """Each component's `component.json` from its ConfigMap in k8s/, as a file, by the
    `app.kubernetes.io/name` of the ConfigMap."""
    found = {}
    for file in files:
        if not file.path.startswith("k8s/"):
            continue
        for doc in yaml.safe_load_all(file.content):
            if doc and doc["kind"] == "ConfigMap" and SETTINGS_FILE in doc["data"]:
                name = doc["metadata"]["labels"]["app.kubernetes.io/name"]
                path = dest / f"{name}.json"
                path.write_text(doc["data"][SETTINGS_FILE], encoding="utf-8")
                found[name] = path
    return found


def test_every_templates_services_start_with_their_own_configmap_settings(
        tmp_path: Path) -> None:
    # docs/generate.md: the service applies the ConfigMap's component.json at startup; a
    # file that does not fit its code stops it. So each must fit its own code.
    folders = []
    for template in TEMPLATES:
        system = load_spec_text(template.build().text)
        dest = tmp_path / template.id
        generate(template.build().text, dest)
        files = render_target(system, Target.K8S, GenerateOptions())
        for name, path in configmap_settings(files, dest).items():
            folders.append([str(dest / "code" / name), str(path)])
    assert len(folders) > 100
    result = subprocess.run([sys.executable, "-c", APPLY_EACH, json.dumps(folders)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
