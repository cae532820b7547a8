"""What a container is, read from its image (or, failing that, its name).

`postgres`/`mysql` → database, `redis`/`memcached` → cache, `kafka`/`rabbitmq`/`nats` →
queue, anything else a service. The image's repository is split into words ('bitnami/
postgresql', 'confluentinc/cp-kafka'), so registries, vendors and tags do not matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scalesim.spec.model import Kind

# word in the image or name -> (kind, tech written in the spec)
TECHS: dict[str, tuple[Kind, str]] = {
    "postgres": (Kind.DATABASE, "postgres"), "postgresql": (Kind.DATABASE, "postgres"),
    "postgis": (Kind.DATABASE, "postgres"), "mysql": (Kind.DATABASE, "mysql"),
    "mariadb": (Kind.DATABASE, "mariadb"), "mongo": (Kind.DATABASE, "mongodb"),
    "mongodb": (Kind.DATABASE, "mongodb"), "cassandra": (Kind.DATABASE, "cassandra"),
    "cockroach": (Kind.DATABASE, "cockroachdb"), "cockroachdb": (Kind.DATABASE, "cockroachdb"),
    "elasticsearch": (Kind.DATABASE, "elasticsearch"),
    "opensearch": (Kind.DATABASE, "opensearch"),
    "redis": (Kind.CACHE, "redis"), "valkey": (Kind.CACHE, "valkey"),
    "memcached": (Kind.CACHE, "memcached"),
    "kafka": (Kind.QUEUE, "kafka"), "redpanda": (Kind.QUEUE, "redpanda"),
    "rabbitmq": (Kind.QUEUE, "rabbitmq"), "nats": (Kind.QUEUE, "nats"),
    "activemq": (Kind.QUEUE, "activemq"),
}
# Words that name a role but no product: only used on names, never on images.
ROLES: dict[str, Kind] = {"db": Kind.DATABASE, "database": Kind.DATABASE,
                          "cache": Kind.CACHE, "queue": Kind.QUEUE, "mq": Kind.QUEUE,
                          "broker": Kind.QUEUE}
_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Guess:
    kind: Kind
    tech: str | None
    why: str               # written as the comment beside `kind`
    from_image: bool       # a known server's image: its own settings are its wiring


def repository_words(image: str) -> list[str]:
    """'docker.io/bitnami/postgresql:16.2@sha256:…' -> ['bitnami', 'postgresql']."""
    repository = image.split("@", 1)[0]
    last = repository.rsplit("/", 1)
    if ":" in last[-1]:
        repository = repository[: repository.rfind(":")]
    parts = repository.lower().split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]  # a registry host
    return [word for part in parts for word in _WORD.split(part) if word]


def guess(image: str | None, name: str) -> Guess:
    """The kind from the image's words, else from the name's words, else a service."""
    if image:
        for word in repository_words(image):
            if word in TECHS:
                kind, tech = TECHS[word]
                return Guess(kind, tech, f"kind and tech from the image '{image}'", True)
    words = [word for word in _WORD.split(name.lower()) if word]
    for word in words:
        if word in TECHS:
            kind, tech = TECHS[word]
            return Guess(kind, tech, f"kind and tech guessed from the name '{name}'", False)
    for word in words:
        if word in ROLES:
            return Guess(ROLES[word], None, f"kind guessed from the name '{name}'", False)
    return Guess(Kind.SERVICE, None, "", False)
