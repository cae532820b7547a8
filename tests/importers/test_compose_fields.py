"""A Compose value that compose-go or the Docker engine refuses is bad input: file, line,
service and field, exit 2, nothing written; what they take (a number in a string, as
interpolation leaves it, days in a duration) imports as the number it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.importers.test_compose import WEB_WORKER
from typer.testing import CliRunner

from scalesim.cli import app
from scalesim.importers import ImportFailed, import_compose

Changes = dict[str, Any]


def _write(tmp_path: Path, service: str, changes: Changes) -> Path:
    """The web + worker project with `changes` (dotted paths; missing mappings are made) in
    one service."""
    project = yaml.safe_load(WEB_WORKER)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = project["services"][service]
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    compose = tmp_path / "compose.yaml"
    compose.write_text(yaml.safe_dump(project, sort_keys=False))
    return compose


def _line(compose: Path, leaf: str, value: Any) -> int:
    rows = compose.read_text().splitlines()
    return next(number for number, row in enumerate(rows, 1)
                if row.strip().startswith(f"{leaf}: ")
                and yaml.safe_load(row.split(": ", 1)[1]) == value)


BAD: list[tuple[str, Changes, tuple[str, Any], str]] = [
    ("web", {"deploy.replicas": "three"}, ("replicas", "three"),
     "deploy.replicas: 'three' is not a whole number"),
    ("web", {"deploy.replicas": -1}, ("replicas", -1),
     "deploy.replicas: -1 is out of range: it must be at least 0"),
    ("worker", {"scale": 2.5}, ("scale", 2.5), "scale: 2.5 is not a whole number"),
    ("web", {"deploy.resources.limits.cpus": "500m"}, ("cpus", "500m"),
     "deploy.resources.limits.cpus: '500m' is not a number"),
    ("redis", {"cpus": -1}, ("cpus", -1), "cpus: -1 is out of range: it must be at least 0"),
    # more cores than a replica has workers for: 1e400 crashed with OverflowError, 1e308
    # was called "a bug in scalesim import"
    ("web", {"cpus": "1e400"}, ("cpus", "1e400"),
     "cpus: '1e400' is out of range: it must be at most 1e+06"),
    ("web", {"deploy.resources.limits.cpus": "1e308"}, ("cpus", "1e308"),
     "deploy.resources.limits.cpus: '1e308' is out of range: it must be at most 1e+06"),
    ("worker", {"deploy.resources.reservations.cpus": "two"}, ("cpus", "two"),
     "deploy.resources.reservations.cpus: 'two' is not a number"),
    ("web", {"healthcheck.interval": "15 seconds"}, ("interval", "15 seconds"),
     "healthcheck.interval: '15 seconds' is not a duration"),
    ("web", {"healthcheck.timeout": "500us"}, ("timeout", "500us"),
     "healthcheck.timeout: '500us' is out of range: it must be 0 or at least 1ms"),
    ("db", {"healthcheck.start_period": 30}, ("start_period", 30),
     "healthcheck.start_period: 30 is not a duration"),
    ("web", {"healthcheck.retries": "four"}, ("retries", "four"),
     "healthcheck.retries: 'four' is not a whole number"),
    ("db", {"healthcheck.retries": -3}, ("retries", -3),
     "healthcheck.retries: -3 is out of range: it must be at least 0"),
    # one service over the spec's bound: named as a Deployment's spec.replicas is (it said
    # 'compose.yaml: the files run 200,004 replicas', no line, service or field)
    ("web", {"deploy.replicas": 200_000}, ("replicas", 200_000),
     "deploy.replicas: 200,000 is more than a spec simulates (100,000 replicas in all)"),
    ("worker", {"scale": "200000"}, ("scale", "200000"),
     "scale: 200,000 is more than a spec simulates (100,000 replicas in all)"),
]


@pytest.mark.parametrize(("service", "changes", "at", "message"), BAD,
                         ids=[next(iter(changes)) + f"-{i}" for i, (_, changes, _, _)
                              in enumerate(BAD)])
def test_a_refused_value_names_file_line_service_and_field(
        tmp_path: Path, service: str, changes: Changes, at: tuple[str, Any],
        message: str) -> None:
    compose = _write(tmp_path, service, changes)
    with pytest.raises(ImportFailed) as caught:
        import_compose([str(compose)])
    assert [(p.file, p.line) for p in caught.value.problems] == \
        [(str(compose), _line(compose, *at))]
    assert caught.value.problems[0].message.startswith(f"service {service} {message}")


def test_every_refused_value_is_listed_exit_2_and_nothing_written(tmp_path: Path) -> None:
    compose = _write(tmp_path, "web", {"deploy.replicas": "many", "healthcheck.interval": "1x"})
    output = tmp_path / "system.yaml"
    result = CliRunner().invoke(app, ["import", "compose", str(compose), "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert f"{compose}:" in result.stderr
    assert "service web deploy.replicas: 'many' is not a whole number" in result.stderr
    assert "service web healthcheck.interval: '1x' is not a duration" in result.stderr
    assert not output.exists()


def test_replicas_over_the_bound_in_all_name_the_largest_share(tmp_path: Path) -> None:
    """60,000 web and 50,000 worker replicas, and db, redis and rabbitmq's one each: each
    within the bound, 110,003 together over it, named at web's deploy.replicas."""
    compose = _write(tmp_path, "web", {"deploy.replicas": 60_000})
    compose.write_text(compose.read_text().replace("replicas: 2\n", "replicas: 50000\n"))
    with pytest.raises(ImportFailed) as caught:
        import_compose([str(compose)])
    assert [str(problem) for problem in caught.value.problems] == [
        f"{compose}:{_line(compose, 'replicas', 60_000)}: the files run 110,003 replicas; a "
        "spec simulates at most 100,000 in all; the most: service web deploy.replicas 60,000"]


def test_numbers_in_strings_and_compose_durations_are_read(tmp_path: Path) -> None:
    """compose-go casts an (interpolated) string to the number its field holds, and reads
    days and weeks in durations."""
    compose = _write(tmp_path, "web", {"deploy.replicas": "${WEB_REPLICAS:-4}",
                                       "healthcheck.retries": "5", "healthcheck.interval": "1d",
                                       "healthcheck.start_period": "0"})
    (tmp_path / ".env").write_text("WEB_REPLICAS=6\n")
    web = import_compose([str(compose)]).system.components["web"]
    readiness = web.health.readiness
    assert web.replicas == 6
    assert (readiness.period, readiness.failure_threshold, readiness.initial_delay) == \
        (86400.0, 5, 0.0)


def test_a_turned_off_healthcheck_is_not_read(tmp_path: Path) -> None:
    compose = _write(tmp_path, "web", {"healthcheck.disable": True,
                                       "healthcheck.interval": "whenever"})
    assert import_compose([str(compose)]).system.components["web"].health is None
