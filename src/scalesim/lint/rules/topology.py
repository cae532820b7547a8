"""Rules about the shape of the call graph: how deep, how tangled, how shared, how chatty,
and which single replicas every request depends on."""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cache

from scalesim.lint.context import Context
from scalesim.lint.estimates import ms, own_time_s, pct, round_trip_s
from scalesim.lint.finding import Hit
from scalesim.lint.graph import Edge, component_of
from scalesim.spec.checks import callees_first
from scalesim.spec.errors import counted
from scalesim.spec.model import Balancer, Component, Kind


def deep_chains(ctx: Context) -> Iterator[Hit]:
    """SS101: from each entry point, the longest chain of synchronous hops."""
    limit = ctx.config.max_depth

    @cache
    def longest(op: str) -> tuple[Edge, ...]:
        best: tuple[Edge, ...] = ()
        for edge in ctx.graph.sync_out.get(op, []):
            chain = (edge, *longest(edge.target))
            if len(chain) > len(best):
                best = chain
        return best

    for op in callees_first(ctx.system):  # fill the cache deepest first: no deep recursion
        longest(op)
    seen: set[tuple[str, ...]] = set()
    for entry in ctx.graph.entries:
        chain = longest(entry.op)
        ops = (entry.op, *(edge.target for edge in chain))
        if len(chain) <= limit or ops in seen:
            continue
        seen.add(ops)
        availability = math.prod(1.0 - ctx.operation(op).error_rate for op in ops)
        latency = sum(own_time_s(ctx, op) for op in ops) + round_trip_s(ctx) * len(chain)
        yield Hit(chain[0].path,
                  f"synchronous chain of {counted(len(chain), 'hop')} (limit {limit}) from "
                  f"{entry.origin}: {' -> '.join(ops)}; with every hop required it succeeds "
                  f"{pct(availability)} of the time (error rates multiplied) and takes at least "
                  f"{ms(latency)} with no queueing (work means + network)")


def component_cycles(ctx: Context) -> Iterator[Hit]:
    """SS102: components that wait on each other synchronously (strongly connected)."""
    edges = [e for e in ctx.graph.edges
             if e.sync and component_of(e.source) != component_of(e.target)]
    for group in _strongly_connected({(component_of(e.source), component_of(e.target))
                                      for e in edges}):
        inside = [e for e in edges
                  if component_of(e.source) in group and component_of(e.target) in group]
        yield Hit(inside[0].path,
                  f"components {', '.join(sorted(group))} wait on each other synchronously "
                  f"({', '.join(f'{e.source} -> {e.target}' for e in inside)}): they fail, "
                  "scale and deploy together, and with blocking workers each can exhaust the "
                  "other's threads")


def _strongly_connected(links: set[tuple[str, str]]) -> list[frozenset[str]]:
    """Groups of 2+ nodes that can all reach each other, ordered by their first name
    (Tarjan's algorithm without recursion: linear in the links, whatever the depth)."""
    out: dict[str, list[str]] = {}
    for a, b in sorted(links):
        out.setdefault(a, []).append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[frozenset[str]] = []
    for root in sorted({node for link in links for node in link}):
        if root in index:
            continue
        work = [(root, iter(out.get(root, [])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            nxt = next(todo, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) >= 2:
                        groups.append(frozenset(group))
            elif nxt not in index:
                index[nxt] = low[nxt] = len(index)
                stack.append(nxt)
                on_stack.add(nxt)
                work.append((nxt, iter(out.get(nxt, []))))
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
    return sorted(groups, key=min)


def shared_databases(ctx: Context) -> Iterator[Hit]:
    """SS103: a database used directly by operations of two or more other components."""
    system = ctx.system
    for name, component in system.components.items():
        if component.kind is not Kind.DATABASE:
            continue
        users = sorted({component_of(e.source) for e in ctx.graph.edges
                        if component_of(e.target) == name and component_of(e.source) != name
                        and ctx.component(e.source).kind is not Kind.CACHE})
        if len(users) >= 2:
            yield Hit(("components", name),
                      f"database '{name}' is used directly by {counted(len(users), 'component')} "
                      f"({', '.join(users)})")


def chatty_calls(ctx: Context) -> Iterator[Hit]:
    """SS104: one operation calling one component N+ times per request (expected count)."""
    by_pair: dict[tuple[str, str], list[Edge]] = {}
    for edge in ctx.graph.edges:
        if edge.call is not None:
            by_pair.setdefault((edge.source, component_of(edge.target)), []).append(edge)
    for (source, target), edges in by_pair.items():
        expected = sum(edge.probability for edge in edges)
        if expected >= ctx.config.max_calls:
            yield Hit(edges[0].path,
                      f"'{source}' calls '{target}' {expected:g} times per request "
                      f"({counted(len(edges), 'call')}, probabilities and parallel branches "
                      "counted; "
                      f"limit {ctx.config.max_calls}), each one a network round trip")


# What removes a single point of failure depends on what it is: a stateless service gets more
# replicas behind a balancer; a database or cache needs a replica to fail over to.
REDUNDANCY_FIXES: dict[Kind, tuple[str, ...]] = {
    Kind.SERVICE: ("replicated-load-balanced-service", "load-balancing", "health-check",
                   "failover"),
    Kind.GATEWAY: ("replicated-load-balanced-service", "load-balancing", "health-check"),
    Kind.DATABASE: ("leader-and-followers", "failover", "majority-quorum"),
    Kind.CACHE: ("leader-and-followers", "failover", "consistent-hashing"),
    Kind.QUEUE: ("replicated-log", "leader-and-followers", "failover"),
}


# Services the cloud provider runs replicated behind one endpoint: `replicas: 1` models the
# endpoint, not a single server.
MANAGED = frozenset({"sqs", "sns", "kinesis", "dynamodb", "s3", "eventbridge", "pubsub",
                     "firestore", "cosmosdb", "servicebus", "eventhubs"})


def waited_on(ctx: Context) -> dict[str, list[str]]:
    """The components whose single replica SS105 reports, each with the workloads that wait
    on it: reached from a workload's entry through synchronous edges, neither external
    (its replicas are not yours to set) nor a managed service (MANAGED)."""
    system = ctx.system
    served: dict[str, list[str]] = {}
    for workload in system.workloads:
        start = ".".join(system.resolve(workload.to))
        for name in sorted({component_of(op) for op in ctx.graph.reachable(start)}):
            component = system.components[name]
            if component.kind is not Kind.EXTERNAL and \
                    (component.tech or "").lower() not in MANAGED:
                served.setdefault(name, []).append(workload.name)
    return served


def single_replicas(ctx: Context) -> Iterator[Hit]:
    """SS105: replicas: 1 on a component some workload waits on (not a managed service)."""
    for name, workloads in waited_on(ctx).items():
        component = ctx.system.components[name]
        if component.replicas == 1:
            yield Hit(("components", name, "replicas"),
                      f"'{name}' has 1 replica on the path of "
                      f"{counted(len(workloads), 'workload')} ({', '.join(workloads)}): one "
                      "crash, restart or deploy of it fails those requests",
                      REDUNDANCY_FIXES.get(component.kind))


# Databases whose nodes form one cluster that places and copies the data itself: any node
# takes any request (a coordinator, or a follower forwarding to the leader), so replicas the
# spec gives no `replication` are still one store.
CLUSTERED = frozenset({"cassandra", "scylladb", "cockroachdb", "yugabytedb", "tidb", "etcd",
                       "zookeeper", "consul", "eventstoredb", "elasticsearch", "opensearch",
                       "couchbase", "riak", "foundationdb"})


def unreplicated(component: Component) -> bool:
    """Whether a database runs several replicas that keep no copy of each other's data: no
    `replication`, no hash balancer to give each key one home, and a server that stands
    alone (postgres, mysql, mongodb...; not a managed service, MANAGED, nor a clustered
    one, CLUSTERED)."""
    tech = (component.tech or "").lower()
    return component.kind is Kind.DATABASE and component.most_replicas > 1 and \
        component.replication is None and component.balancer is not Balancer.HASH and \
        tech not in MANAGED | CLUSTERED


def unreplicated_databases(ctx: Context) -> Iterator[Hit]:
    """SS107: a database's replicas are independent servers, each with the writes it was
    sent: the extra replicas that clear SS105 are no copies to fail over to."""
    for name, component in ctx.system.components.items():
        if not unreplicated(component):
            continue
        count = component.most_replicas
        yield Hit(("components", name, "replicas"),
                  f"database '{name}' has {counted(count, 'replica')} but no replication: "
                  f"each is a server with its own data, and the balancer "
                  f"({component.balancer.value}) sends each read and write to any of them, "
                  "so a read sees a write only where it lands on the replica that took it "
                  f"(1 in {count}) and the copies diverge; a replica's crash loses the "
                  "writes only it holds "
                  "(the simulation serves them as one store, and generate deploys "
                  f"{count} independent servers); add replication: {{writes: [...]}} "
                  "(leader and followers, or mode: quorum), or balancer: hash to give each "
                  "key one replica (shards)")


def missing_health_checks(ctx: Context) -> Iterator[Hit]:
    """SS106: several replicas and no readiness probe to take a sick one out of rotation."""
    for name, component in ctx.system.components.items():
        if component.replicas < 2 or component.kind in (Kind.EXTERNAL, Kind.QUEUE):
            continue
        if component.health is None or component.health.readiness is None:
            yield Hit(("components", name, "health"),
                      f"'{name}' has {counted(component.replicas, 'replica')} but no "
                      "readiness probe: "
                      f"a replica that hangs or fails keeps receiving about 1/"
                      f"{component.replicas} of the requests until someone notices; add "
                      "health: {readiness: {}} (Kubernetes defaults: every 10 s, out after "
                      "3 failures)")
