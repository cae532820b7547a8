"""Host names in configuration values: who a container talks to.

An environment variable reveals a dependency when its value is a URL
(`postgres://user:pw@db:5432/app`, `jdbc:mysql://…`, `mongodb://a:27017,b:27017`), a
`host:port` (`cartservice:7070`), a comma-separated list of those (Kafka bootstrap servers),
or a bare host name in a variable whose name ends in a word saying it holds an address
(`REDIS_HOST`, `BROKER`, `…_ADDR`, `…_SERVICE`; not `OTEL_SERVICE_NAME`, whose last word
is a name). Telemetry's service-identity variables (`OTEL_SERVICE_NAME`, `DD_SERVICE`…)
label the sender, they reach nobody: never read. Only hosts that name a component of the
input count.
"""

from __future__ import annotations

import re

_HOST = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
_HOST_PORT = re.compile(rf"^({_HOST}):(\d+)$")
_BARE = re.compile(rf"^{_HOST}$")
_ADDRESS_WORDS = frozenset({"host", "hosts", "hostname", "addr", "address", "url", "uri",
                            "urls", "server", "servers", "endpoint", "endpoints", "dsn",
                            "broker", "brokers", "service", "svc", "connect", "bootstrap",
                            "upstream", "backend", "target", "addrs", "addresses", "uris"})
# The service's own identity in OpenTelemetry's and Datadog's unified tagging: the name
# its telemetry is reported under, often a component's name, never an address it calls.
_IDENTITY = frozenset({"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "DD_SERVICE",
                       "DD_ENV", "DD_VERSION", "DD_TAGS"})
# Kafka's security protocols, which also name its listeners (PLAINTEXT://…): not hosts.
_NOT_HOSTS = frozenset({"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"})


def _authority_hosts(url: str) -> list[str]:
    rest = url.split("://", 1)[1]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    authority = authority.rsplit("@", 1)[-1]
    hosts = []
    for item in authority.split(","):
        host = item.rsplit(":", 1)[0] if _HOST_PORT.match(item) else item
        if _BARE.match(host):
            hosts.append(host)
    return hosts


def names_an_address(variable: str) -> bool:
    """Whether the variable's last word says it holds an address (`…_HOST`, `BROKER`)."""
    words = [word for word in re.split(r"[^a-z0-9]+", variable.lower()) if word]
    return bool(words) and words[-1] in _ADDRESS_WORDS


def hosts_in(variable: str, value: object) -> list[str]:
    """Host names in one variable's value, lower-cased, in order, each once."""
    if not isinstance(value, str) or variable.upper() in _IDENTITY:
        return []
    found: list[str] = []
    for token in re.split(r"[\s;]+", value.strip()):
        if "://" in token:
            found += _authority_hosts(token)
            continue
        for part in token.split(","):
            if (match := _HOST_PORT.match(part)) is not None:
                found.append(match.group(1))
            elif _BARE.match(part) and names_an_address(variable) and not part.isdigit():
                found.append(part)
    return list(dict.fromkeys(host.lower() for host in found
                              if host.lower() not in _NOT_HOSTS))
