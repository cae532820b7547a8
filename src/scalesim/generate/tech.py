"""What a database, cache or queue runs as, chosen by the component's `tech`.

Official images pinned by tag; the port, the URL scheme callers use, where data lives and
how Compose can tell the server is up. Unknown techs run the component's own image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scalesim.spec.model import Component, Kind


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


def tech_of(name: str, component: Component, registry: str) -> Tech:
    """The server a component runs: its tech, the kind's default, or its own image (HTTP);
    an external API is reached over plain HTTP on port 80 (see docs/generate.md)."""
    if component.kind is Kind.EXTERNAL:
        return Tech("external", "", 80, "http", "http", http=True)
    chosen = (component.tech or DEFAULT_TECH.get(component.kind, "")).lower()
    known = TECHS.get(ALIASES.get(chosen, chosen))
    if known is not None and component.kind in STATEFUL:
        return known
    return Tech(chosen or "app", f"{registry}/{name.lower()}:latest", 8080, "http", "http",
                http=True)


def runs_as_deployment(component: Component) -> bool:
    """Services, gateways and data components of an unknown tech run the app's own image."""
    return component.kind is not Kind.EXTERNAL and tech_of("", component, "").http
