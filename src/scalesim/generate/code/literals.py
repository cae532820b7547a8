"""Python expressions that rebuild spec settings in generated code, laid out to fit a line.

The generated service writes the spec's numbers as literals (`Exponential(mean=0.003)`), so
its behaviour can be read, and changed, where it is defined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from scalesim.spec.dists import AnyDistribution, Empirical, Lognormal, Mixture
from scalesim.spec.resilience import Bulkhead, CircuitBreaker, Retry

WIDTH = 99
Arg = tuple[str | None, "Expr"]  # keyword (None: positional) and value


@dataclass(frozen=True)
class Expr:
    """A call `head(args)` or a tuple `(args)` (head ""); a bare literal has no args."""

    head: str
    args: tuple[Arg, ...] = ()
    bracketed: bool = False
    braces: bool = False  # a set literal {args}

    def render(self, indent: int = 0, used: int = 0) -> str:
        """This expression, on one line if it fits after `used` columns, else one argument
        per line."""
        flat = self._flat()
        if indent + used + len(flat) <= WIDTH or not self.args:
            return flat
        inner = " " * (indent + 4)
        lines = [self._item(key, value, indent + 4) for key, value in self.args]
        opening, closing = ("{", "}") if self.braces else (f"{self.head}(", ")")
        return (f"{opening}\n" + "".join(f"{inner}{line},\n" for line in lines)
                + " " * indent + closing)

    def _flat(self) -> str:
        if not self.bracketed:
            return self.head
        items = ", ".join(f"{key}={value._flat()}" if key else value._flat()
                          for key, value in self.args)
        if self.braces:
            return "{" + items + "}"
        if self.head == "" and len(self.args) == 1:
            items += ","
        return f"{self.head}({items})"

    @staticmethod
    def _item(key: str | None, value: Expr, indent: int) -> str:
        prefix = f"{key}=" if key else ""
        return prefix + value.render(indent, len(prefix) + 1)


def lit(value: object) -> Expr:
    """A literal number, bool, None or string (in double quotes, as the house style has it)."""
    return Expr(python(value))


def python(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # spec names and causes are plain ASCII
    return repr(value)


def call(head: str, *positional: Expr, **keywords: Expr) -> Expr:
    args: list[Arg] = [(None, value) for value in positional]
    args += list(keywords.items())
    return Expr(head, tuple(args), bracketed=True)


def tuple_of(*items: Expr) -> Expr:
    return Expr("", tuple((None, item) for item in items), bracketed=True)


def distribution(dist: AnyDistribution) -> tuple[Expr, set[str]]:
    """A sampler of `dists.py` for a spec distribution, and the class names it uses."""
    name = type(dist).__name__
    if isinstance(dist, Mixture):
        parts, used = [], {name}
        for item in dist.of:
            part, part_used = distribution(item.dist)
            parts.append(tuple_of(lit(item.weight), part))
            used |= part_used
        return call(name, parts=tuple_of(*parts)), used
    if isinstance(dist, Empirical):
        knots = (tuple_of(lit(q), lit(v)) for q, v in dist.knots())
        return call(name, knots=tuple_of(*knots)), {name}
    return call(name, **{key: lit(value) for key, value in _parameters(dist).items()}), {name}


def _parameters(dist: AnyDistribution) -> dict[str, object]:
    """The spec's own parameters; a lognormal by the center it was given."""
    if isinstance(dist, Lognormal):
        if dist.median is not None:
            return {"median": dist.median, "p99": dist.p99}
        return {"mean": dist.mean, "p99": dist.p99}
    return dist.model_dump(exclude={"dist"})


def breaker(spec: CircuitBreaker) -> Expr:
    """A Resilience4j-style breaker with every setting written out."""
    keywords = {
        "window_type": lit(spec.window_type), "window": lit(spec.window),
        "min_calls": lit(spec.min_calls), "failure_rate": lit(spec.failure_rate),
        "slow_call_rate": lit(spec.slow_call_rate),
        "slow_call_duration": lit(spec.slow_call_duration), "open_for": lit(spec.open_for),
        "open_for_multiplier": lit(spec.open_for_multiplier),
        "open_for_max": lit(spec.open_for_max),
        "automatic_half_open": lit(spec.automatic_half_open),
        "max_wait_in_half_open": lit(spec.max_wait_in_half_open),
        "half_open_calls": lit(spec.half_open_calls),
    }
    return call("CircuitBreaker", **keywords)


def retry(spec: Retry) -> tuple[Expr, set[str]]:
    """A retry policy, and the names of `resilience.py` it uses."""
    causes = Expr("", tuple((None, lit(cause)) for cause in sorted(set(spec.on))),
                  bracketed=True, braces=True)
    keywords = {
        "attempts": lit(spec.attempts),
        "backoff": call("Backoff", lit(spec.backoff), lit(spec.jitter), base=lit(spec.base),
                        cap=lit(spec.max)),
        "on": call("frozenset", causes),
    }
    used = {"Backoff"}
    if spec.budget is not None:
        keywords["budget"] = call("RetryBudget", ratio=lit(spec.budget.ratio),
                                  min_per_s=lit(spec.budget.min_per_s),
                                  window=lit(spec.budget.window))
        used.add("RetryBudget")
    if spec.max_concurrent is not None:
        keywords["max_concurrent"] = lit(spec.max_concurrent)
    return call("Retry", **keywords), used


def bulkhead(spec: Bulkhead) -> Expr:
    """Semaphore: `max_concurrent` and `max_wait`; thread pool: `size` and a `queue` that
    waits as long as it takes."""
    if spec.type == "semaphore":
        return call("Bulkhead", lit(spec.max_concurrent), max_wait=lit(spec.max_wait))
    return call("Bulkhead", lit(spec.size), max_wait=lit(None), max_queue=lit(spec.queue))
