"""A component's leader election, from what its pods say: client-go's `--leader-elect*`
flags (kube-controller-manager, kube-scheduler, and the controller-runtime managers that
kubebuilder scaffolds); an etcd member's Raft settings (`--heartbeat-interval`,
`--election-timeout` and `--pre-vote` flags, or the `ETCD_*` environment variables etcd reads
the same way); else the `consistency.json` that `scalesim generate` puts in the component's
settings ConfigMap (its `client_go` Lease settings, or its `etcd` Raft ones)."""

from __future__ import annotations

import json
from typing import Any

from scalesim.importers.draft import Block, Component
from scalesim.importers.k8s.objects import Cluster, Manifest, mapping, mounted_config_maps
from scalesim.importers.sizing import go_duration
from scalesim.importers.sources import Seen, line_of
from scalesim.spec.units import format_duration

FLAG = "--leader-elect"
# client-go flags -> the spec's lease fields
DURATION_FLAGS = {"--leader-elect-lease-duration": "lease_duration",
                  "--leader-elect-renew-deadline": "renew_deadline",
                  "--leader-elect-retry-period": "retry_period"}
CLIENT_GO = {"LeaseDuration": "lease_duration", "RenewDeadline": "renew_deadline",
             "RetryPeriod": "retry_period"}
SETTINGS_KEY = "consistency.json"
# etcd's Raft settings (milliseconds) -> the spec's raft fields, by etcd's name for them: the
# flag is `--` + the name, the environment variable etcd also reads ETCD_ + the name in
# capitals with underscores, and `scalesim generate` writes the name in consistency.json.
ETCD_TIMINGS = {"heartbeat-interval": "heartbeat", "election-timeout": "election_timeout"}
PRE_VOTE = "pre-vote"
ETCD_FLAGS = tuple(f"--{name}" for name in (*ETCD_TIMINGS, PRE_VOTE))


def leader_election(manifest: Manifest, cluster: Cluster, component: Component,
                    template: dict[str, Any], container: dict[str, Any], path: str) -> None:
    block = _from_flags(manifest, container, path) or _from_etcd(manifest, container, path) \
        or _from_settings(manifest, cluster, template)
    if block is not None:
        component.leader_election = block


def _words(container: dict[str, Any]) -> list[str]:
    """The container's command and arguments."""
    words: list[str] = []
    for key in ("command", "args"):
        listed = container.get(key)
        if isinstance(listed, list):
            words += [str(word) for word in listed]
    return words


def _flags(container: dict[str, Any], prefixes: tuple[str, ...]) -> dict[str, str]:
    """The container's flags that start with one of `prefixes`, by name: `--flag value` and
    `--flag=value` give the value, a bare `--flag` an empty string (pflag: true)."""
    words = _words(container)
    flags: dict[str, str] = {}
    for index, word in enumerate(words):
        if not word.startswith(prefixes):
            continue
        name, equals, value = word.partition("=")
        if not equals and name not in (FLAG, f"--{PRE_VOTE}") and index + 1 < len(words) and \
                not words[index + 1].startswith("-"):
            value = words[index + 1]
        flags[name] = value
    return flags


def _where(container: dict[str, Any], prefixes: tuple[str, ...]) -> str:
    """`args` or `command`: where the flags are."""
    return "args" if any(str(w).startswith(prefixes) for w in container.get("args") or []) \
        else "command"


def _from_flags(manifest: Manifest, container: dict[str, Any], path: str) -> Block | None:
    flags = _flags(container, (FLAG,))
    if FLAG not in flags or flags[FLAG].lower() not in ("", "true"):
        return None   # pflag: a bare --leader-elect is true; =false (the default) is off
    where = _where(container, (FLAG,))
    seen = manifest.seen_in(container, where, f"{path}.{where}")
    block = Block(seen, manifest.title)
    block.put(("type",), "lease", f"client-go leader election ({FLAG}), a Lease lock")
    for flag, field in DURATION_FLAGS.items():
        seconds = go_duration(flags.get(flag))
        if seconds is not None:
            block.put((field,), format_duration(seconds), f"{flag}={flags[flag]} ({seen})")
    return block


def _is_etcd(container: dict[str, Any]) -> bool:
    """An etcd member: its command runs `etcd`, or its image is etcd's."""
    words = _words(container)
    image = str(container.get("image") or "").rsplit("/", 1)[-1].partition(":")[0]
    return bool(words and words[0].rsplit("/", 1)[-1] == "etcd") or image == "etcd"


def _from_etcd(manifest: Manifest, container: dict[str, Any], path: str) -> Block | None:
    """etcd's Raft: the flags, else the ETCD_* variables; etcd's defaults where neither."""
    if not _is_etcd(container):
        return None
    flags = {name[2:]: value for name, value in _flags(container, ETCD_FLAGS).items()}
    env = {str(item.get("name")): str(item.get("value"))
           for item in container.get("env") or [] if isinstance(item, dict)
           and item.get("value") is not None}
    variables = {_variable(name): name for name in (*ETCD_TIMINGS, PRE_VOTE)}
    # By setting: how the pod says it (for the comment) and the value; a flag wins.
    said = {**{variables[v]: (f"{v}={raw}", raw) for v, raw in env.items() if v in variables},
            **{name: (f"--{name}" + (f"={raw}" if raw else ""), raw)
               for name, raw in flags.items()}}
    if flags:
        where = _where(container, ETCD_FLAGS)
    elif said:
        where = "env"
    else:
        where = "command" if "command" in container else "image"
    seen = manifest.seen_in(container, where, f"{path}.{where}")
    block = Block(seen, manifest.title)
    block.put(("type",), "raft", f"an etcd member: Raft ({seen})")
    for name, field in ETCD_TIMINGS.items():
        text, raw = said.get(name, ("", ""))
        if raw.isdigit() and int(raw) > 0:
            block.put((field,), f"{int(raw)}ms", f"{text} ({seen})")
    if PRE_VOTE in said and said[PRE_VOTE][1].lower() in ("", "true", "false"):
        text, raw = said[PRE_VOTE]
        block.put(("pre_vote",), raw.lower() != "false", f"{text} ({seen})")
    return block


def _variable(name: str) -> str:
    """The environment variable etcd reads a setting from: ETCD_HEARTBEAT_INTERVAL."""
    return "ETCD_" + name.upper().replace("-", "_")


def _from_settings(manifest: Manifest, cluster: Cluster,
                   template: dict[str, Any]) -> Block | None:
    for name in mounted_config_maps(template):
        data = cluster.config_maps.get((manifest.namespace, name))
        if data is None or not isinstance(data.get(SETTINGS_KEY), str):
            continue
        try:
            settings = json.loads(data[SETTINGS_KEY])
        except json.JSONDecodeError:
            continue
        election = mapping(mapping(settings).get("leader_election"))
        seen = Seen(manifest.file, line_of(data, SETTINGS_KEY), f"ConfigMap {name}",
                    f"data.{SETTINGS_KEY}")
        block = Block(seen, f"ConfigMap {name}")
        client_go, etcd = mapping(election.get("client_go")), mapping(election.get("etcd"))
        if client_go:
            block.put(("type",), "lease", seen)
            for key, field in CLIENT_GO.items():
                seconds = go_duration(client_go.get(key))
                if seconds is not None:
                    block.put((field,), format_duration(seconds))
            if client_go.get("ReleaseOnCancel") is True:
                block.put(("release_on_cancel",), True)
            return block
        if etcd:
            block.put(("type",), "raft", seen)
            for key, field in ETCD_TIMINGS.items():
                value = etcd.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    block.put((field,), f"{value}ms")
            if isinstance(etcd.get(PRE_VOTE), bool):
                block.put(("pre_vote",), etcd[PRE_VOTE])
            return block
    return None
