"""Python expressions that rebuild spec settings in generated code, laid out to fit a line.

The generated service writes the spec's numbers as literals (`Exponential(mean=0.003)`), so
its behaviour can be read, and changed, where it is defined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from scalesim.spec.dists import AnyDistribution, Empirical, Lognormal, Mixture
from scalesim.spec.resilience import Bulkhead, CircuitBreaker, Retry

WIDTH = 100  # the generated ruff.toml's line-length
Arg = tuple[str, "Expr"]  # what comes before the value ("", "key=" or '"key": ') and it


@dataclass(frozen=True)
class Expr:
    """A call `head(args)`, a tuple `(args)` (head "") or a set or dict `{args}` (brackets
    "{}"); a bare literal has no brackets. Laid out as `ruff format` lays it out, so the generated
    code is ruff-format clean."""

    head: str
    args: tuple[Arg, ...] = ()
    bracketed: bool = False
    brackets: str = "()"

    def render(self, indent: int = 0, used: int = 0, trailer: int = 0) -> str:
        """This expression starting `used` columns after `indent`, with `trailer` columns
        after it on its last line. As ruff (and black) do: on one line if it fits; else the
        arguments on one line of their own between the brackets; else one per line, each
        laid out the same way, with a trailing comma."""
        flat = self._flat()
        if indent + used + len(flat) + trailer <= WIDTH or not self.args:
            return flat
        opening, closing = self.brackets[0], self.brackets[1]
        inner = " " * (indent + 4)
        body = self._items()
        if indent + 4 + len(body) <= WIDTH:
            return f"{self.head}{opening}\n{inner}{body}\n{' ' * indent}{closing}"
        lines = [prefix + value.render(indent + 4, len(prefix), trailer=1)
                 for prefix, value in self.args]
        return (f"{self.head}{opening}\n" + "".join(f"{inner}{line},\n" for line in lines)
                + " " * indent + closing)

    def _flat(self) -> str:
        if not self.bracketed:
            return self.head
        opening, closing = self.brackets[0], self.brackets[1]
        return f"{self.head}{opening}{self._items()}{closing}"

    def _items(self) -> str:
        items = ", ".join(prefix + value._flat() for prefix, value in self.args)
        return items + "," if self.head == "" and self.brackets == "()" and \
            len(self.args) == 1 else items


def lit(value: object) -> Expr:
    """A literal number, bool, None or string (in double quotes, as the house style has it)."""
    return Expr(python(value))


def python(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # spec names and causes are plain ASCII
    return repr(value)


def call(head: str, *positional: Expr, **keywords: Expr) -> Expr:
    args: list[Arg] = [("", value) for value in positional]
    args += [(f"{key}=", value) for key, value in keywords.items()]
    return Expr(head, tuple(args), bracketed=True)


def tuple_of(*items: Expr) -> Expr:
    return Expr("", tuple(("", item) for item in items), bracketed=True)


def set_of(*items: Expr) -> Expr:
    return Expr("", tuple(("", item) for item in items), bracketed=True, brackets="{}")


def dict_of(items: dict[str, Expr]) -> Expr:
    return Expr("", tuple((f"{python(key)}: ", value) for key, value in items.items()),
                bracketed=True, brackets="{}")


def statement(expr: Expr, comment: str | None = None, indent: int = 4) -> str:
    """A statement in a function body; its continuation lines carry their own indentation,
    the first line none. A trailing comment follows the last line, as ruff keeps it."""
    if comment is None:
        return expr.render(indent)
    return f"{expr.render(indent, trailer=len(comment) + 4)}  # {comment}"


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
        percentiles = dict_of({key: lit(value) for key, value in dist.percentiles.items()})
        return call(name, percentiles=percentiles), {name}
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
    causes = set_of(*(lit(cause) for cause in sorted(set(spec.on))))
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
