"""What a database, cache or queue runs as, chosen by the component's `tech`.

Official images pinned by tag; the port, the URL scheme callers use, where data lives and
how Compose can tell the server is up. A data component of an unknown tech is still a
server with data: a StatefulSet with a volume, whose image is a placeholder to set. Services
and gateways (and a managed queue, SQS) run the component's own image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scalesim.generate.errors import Problem
from scalesim.lint.rules.topology import unreplicated
from scalesim.spec.model import Component, Kind, System


@dataclass(frozen=True)
class Tech:
    name: str
    image: str
    port: int
    port_name: str
    scheme: str
    data_path: str | None = None
    password_env: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    healthcheck: tuple[str, ...] = ()
    http: bool = False
    placeholder: bool = False   # an unknown tech: the image (port, data path) are guesses


TECHS: dict[str, Tech] = {t.name: t for t in (
    Tech("postgres", "postgres:17.5", 5432, "tcp-postgres", "postgresql",
         "/var/lib/postgresql/data", "POSTGRES_PASSWORD",
         {"PGDATA": "/var/lib/postgresql/data/pgdata"},
         ("CMD", "pg_isready", "-U", "postgres")),
    Tech("mysql", "mysql:8.4.5", 3306, "tcp-mysql", "mysql", "/var/lib/mysql",
         "MYSQL_ROOT_PASSWORD", {}, ("CMD", "mysqladmin", "ping", "-h", "localhost")),
    Tech("mongodb", "mongo:8.0.9", 27017, "tcp-mongodb", "mongodb", "/data/db", None, {},
         ("CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping')")),
    Tech("redis", "redis:7.4.4", 6379, "tcp-redis", "redis", "/data", None, {},
         ("CMD", "redis-cli", "ping")),
    Tech("memcached", "memcached:1.6.38", 11211, "tcp-memcached", "memcached"),
    Tech("kafka", "apache/kafka:3.9.1", 9092, "tcp-kafka", "kafka", "/var/lib/kafka/data",
         None, {}, ("CMD", "/opt/kafka/bin/kafka-broker-api-versions.sh",
                    "--bootstrap-server", "localhost:9092")),
    Tech("rabbitmq", "rabbitmq:4.1.1", 5672, "tcp-amqp", "amqp", "/var/lib/rabbitmq", None,
         {}, ("CMD", "rabbitmq-diagnostics", "-q", "ping")),
    Tech("nats", "nats:2.11.4", 4222, "tcp-nats", "nats", "/data", None, {}),
)}
ALIASES = {"postgresql": "postgres", "mongo": "mongodb", "rabbit": "rabbitmq"}
DEFAULT_TECH = {Kind.DATABASE: "postgres", Kind.CACHE: "redis", Kind.QUEUE: "rabbitmq"}
STATEFUL = frozenset(DEFAULT_TECH)
MANAGED = frozenset({"sqs"})    # a cloud service: nothing of it runs in the cluster
PLACEHOLDER_REGISTRY = "example.invalid"    # never resolves: the pull fails, saying so
PLACEHOLDER_DATA = "/data"


def _chosen(component: Component) -> str:
    return (component.tech or DEFAULT_TECH.get(component.kind, "")).lower()


def tech_of(name: str, component: Component, registry: str) -> Tech:
    """The server a component runs: its tech, the kind's default, a placeholder for a data
    component of an unknown tech, or its own image (HTTP); an external API is reached over
    plain HTTP on port 80 (see docs/generate.md)."""
    if component.kind is Kind.EXTERNAL:
        return Tech("external", "", 80, "http", "http", http=True)
    chosen = _chosen(component)
    if runs_as_deployment(component):
        return Tech(chosen or "app", f"{registry}/{name.lower()}:latest", 8080, "http",
                    "http", http=True)
    known = TECHS.get(ALIASES.get(chosen, chosen))
    if known is not None:
        return known
    repository = re.sub(r"[^a-z0-9]+", "-", chosen).strip("-") or "server"
    return Tech(chosen, f"{PLACEHOLDER_REGISTRY}/{repository}:placeholder", 8080, "http",
                "http", PLACEHOLDER_DATA, http=True, placeholder=True)


def runs_as_deployment(component: Component) -> bool:
    """Services and gateways run the app's own image, and so does a managed queue's
    stand-in; every other database, cache or queue is a server with data."""
    return component.kind is not Kind.EXTERNAL and (
        component.kind not in STATEFUL or _chosen(component) in MANAGED)


def placeholder_note(name: str, component: Component) -> str | None:
    """What to set on a data component whose tech has no known image, or None."""
    tech = tech_of(name, component, "")
    if not tech.placeholder:
        return None
    return (f"placeholder: tech '{tech.name}' has no known image; set the image of "
            f"'{name}' ({tech.image} never resolves), and its port ({tech.port}) and data "
            f"path ({tech.data_path}) if the server uses others")


def copies_note(name: str, component: Component) -> str | None:
    """What a StatefulSet of several database servers leaves out, or None: the copying
    between them. Each pod is a server of its own; without `replication` the spec's data
    diverge over them (lint SS107), and a `replication` is the database operator's to set
    up (consistency.json holds its settings)."""
    if component.kind is not Kind.DATABASE or runs_as_deployment(component):
        return None
    count, server = component.most_replicas, tech_of(name, component, "").name
    if unreplicated(component):
        return (f"{count} independent {server} servers: the spec sets no replication, so "
                "each keeps only the writes sent to it while the Service spreads reads and "
                "writes over them, and their data diverge (lint SS107); replicate them with "
                "the database's operator (CloudNativePG for postgres) or give each key one "
                "server")
    if component.replication is not None and count > 1:
        return (f"{count} independent {server} servers: the spec's "
                f"{component.replication.mode} replication is not generated; set it up "
                "with the database's operator (CloudNativePG for postgres), its settings "
                "are in consistency.json")
    return None


def diverging_databases(system: System) -> list[Problem]:
    """A warning per database whose pods `generate` deploys as servers with diverging data,
    at its `replicas`."""
    return [Problem(f"warning: '{name}' runs {note}", ("components", name, "replicas"))
            for name, component in system.components.items()
            if unreplicated(component) and (note := copies_note(name, component)) is not None]


def unknown_techs(system: System) -> list[Problem]:
    """A warning per data component whose tech the generator does not know, at its `tech`."""
    return [Problem(f"warning: {note}", ("components", name, "tech"))
            for name, component in system.components.items()
            if (note := placeholder_note(name, component)) is not None]
