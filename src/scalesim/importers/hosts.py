"""Host names in configuration values: who a container talks to.

An environment variable reveals a dependency when its value is a URL
(`postgres://user:pw@db:5432/app`, `jdbc:mysql://…`, `mongodb://a:27017,b:27017`), a
`host:port` (`cartservice:7070`), a comma-separated list of those (Kafka bootstrap servers,
URLs), a JSON list of them (`["http://es:9200"]`, as Kibana and Elastic clients take), a
gRPC target (`dns:///inventory:50051`, whose host is in the path), a keyword connection
string (libpq's `host=db port=5432 …`, ADO.NET's `Server=tcp:db,1433;…`), or a bare host
name in a variable whose name ends in a word saying it holds an address (`REDIS_HOST`,
`BROKER`, `…_ADDR`, `…_SERVICE`; not `OTEL_SERVICE_NAME`, whose last word is a name).
Telemetry's service-identity variables (`OTEL_SERVICE_NAME`, `DD_SERVICE`…) label the
sender, they reach nobody: never read. Only hosts that name a component of the input
count; an address variable whose value holds no host read this way is `unread`, so the
import can say so instead of losing a call silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from scalesim.importers.sources import Seen

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
# The keys naming the server in keyword connection strings: libpq (`host`, `hostaddr`),
# Npgsql (`Host`, `Server`), ADO.NET/SQL Server (`Server`, `Data Source`, `Address`, `Addr`).
_KEYWORD = re.compile(r"(?i)(?:^|[\s;])(host|hostaddr|server|data source|address|addr)\s*=\s*"
                      r"(?:'([^']*)'|\"([^\"]*)\"|([^\s;]*))")
_URL_START = re.compile(r",(?=[A-Za-z][A-Za-z0-9+.-]*://)")   # a comma before another URL
# Values an address variable may hold that name no other host: a port alone (`:8080`, a
# listen address), a socket path or file.
_NO_HOST = re.compile(r"^(?::\d+|unix:.*|/.*|\./.*|\*)$")


@dataclass(frozen=True)
class Hosts:
    """The hosts a value names, lower-cased, each once; `unread` when the variable is
    named like an address but its value shows none."""

    hosts: list[str]
    unread: bool


def names_an_address(variable: str) -> bool:
    """Whether the variable's last word says it holds an address (`…_HOST`, `BROKER`)."""
    words = [word for word in re.split(r"[^a-z0-9]+", variable.lower()) if word]
    return bool(words) and words[-1] in _ADDRESS_WORDS


def hosts_in(variable: str, value: object) -> list[str]:
    """Host names in one variable's value, lower-cased, in order, each once."""
    return read_hosts(variable, value).hosts


def read_hosts(variable: str, value: object) -> Hosts:
    """The hosts in one variable's value, and whether an address variable's value was not
    understood."""
    if not isinstance(value, str) or variable.upper() in _IDENTITY:
        return Hosts([], False)
    text = value.strip()
    found = _hosts(variable, text)
    hosts = list(dict.fromkeys(host.lower() for host in found if host.lower() not in _NOT_HOSTS))
    unread = not found and names_an_address(variable) and bool(text) and not text.isdigit() \
        and not _NO_HOST.match(text)
    return Hosts(hosts, unread)


def unread_note(who: str, variable: str, seen: Seen) -> str:
    """What an address variable whose value shows no host becomes: a note (the value is not
    repeated: connection strings hold passwords)."""
    return (f"{who}: {variable} ({seen.file}:{seen.line}) is named like an address, but "
            "import reads no host in its value (not a URL, host:port, gRPC target or "
            "keyword connection string it knows): if it names a component this one calls, "
            "add the call by hand")


def _hosts(variable: str, value: str) -> list[str]:
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [host for item in items if isinstance(item, str)
                    for host in _hosts(variable, item.strip())]
    if "://" not in value and _KEYWORD.search(value):
        return [host for match in _KEYWORD.finditer(value)
                for host in _server(next(g for g in match.groups()[1:] if g is not None))]
    found: list[str] = []
    for token in re.split(r"[\s;]+", value):
        token = token.strip("'\"")
        if token.lower().startswith("dns:"):
            found += _grpc_target(token[4:])
        elif "://" in token:
            found += [host for url in _URL_START.split(token) for host in _authority_hosts(url)]
        else:
            found += _listed(token, names_an_address(variable))
    return found


def _listed(token: str, bare: bool) -> list[str]:
    """The hosts of a comma-separated list of `host:port`s (and of bare hosts when the
    variable names an address)."""
    found = []
    for part in token.split(","):
        if (match := _HOST_PORT.match(part)) is not None:
            found.append(match.group(1))
        elif bare and _BARE.match(part) and not part.isdigit():
            found.append(part)
    return found


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


def _grpc_target(rest: str) -> list[str]:
    """gRPC's DNS target, `dns:[//authority/]host[:port]`: the host is in the path (the
    authority, usually empty, names the DNS server)."""
    if rest.startswith("//"):
        rest = rest[2:].partition("/")[2]
    return _listed(rest, True)


def _server(value: str) -> list[str]:
    """The hosts of a keyword connection string's server value: libpq's comma-separated
    list (`host=a,b`), SQL Server's `tcp:host,port` or `host\\instance`, a `host:port`."""
    value = value.removeprefix("tcp:").split("\\", 1)[0]
    return _listed(value, True)
