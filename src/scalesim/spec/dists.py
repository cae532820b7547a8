"""Distributions of time, as written in a spec.

A plain duration string is a constant; a mapping names its family with `dist`. Each family
knows its own mean, which the load estimate (offered load, ρ) and the analytic layer use.
"""

from __future__ import annotations

import math
from itertools import pairwise
from statistics import NormalDist
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from scalesim.spec import bounds
from scalesim.spec.types import Duration, Number, PositiveDuration, Strict

Z99 = NormalDist().inv_cdf(0.99)  # 2.3263…: lognormal p99 sits Z99 sigmas above the median


class Constant(Strict):
    """A fixed time; written in a spec simply as a duration string, e.g. `4ms`."""

    dist: Literal["constant"] = "constant"
    value: Duration

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if isinstance(data, dict | BaseModel):
            return data
        return {"dist": "constant", "value": data}  # a bare number fails with "needs a unit"

    @property
    def mean_s(self) -> float:
        return self.value


class Exponential(Strict):
    dist: Literal["exponential"]
    mean: PositiveDuration

    @property
    def mean_s(self) -> float:
        return self.mean


class Lognormal(Strict):
    """Given by its median (or mean) and p99 — the two numbers people know about a latency."""

    dist: Literal["lognormal"]
    median: PositiveDuration | None = None
    mean: PositiveDuration | None = None
    p99: PositiveDuration

    @model_validator(mode="after")
    def _check(self) -> Lognormal:
        if (self.median is None) == (self.mean is None):
            raise ValueError("give exactly one of 'median' or 'mean' with 'p99'")
        center = self.median if self.median is not None else self.mean
        assert center is not None
        if self.p99 <= center:
            raise ValueError("'p99' must be larger than the median/mean")
        if self.mean is not None and math.log(self.p99 / self.mean) > Z99 * Z99 / 2:
            raise ValueError(f"p99/mean must be at most {math.exp(Z99 * Z99 / 2):.2f} "
                             "for a lognormal; give the median instead")
        return self

    @property
    def sigma(self) -> float:
        if self.median is not None:
            return math.log(self.p99 / self.median) / Z99
        assert self.mean is not None
        return Z99 - math.sqrt(Z99 * Z99 - 2.0 * math.log(self.p99 / self.mean))

    @property
    def mu(self) -> float:
        if self.median is not None:
            return math.log(self.median)
        assert self.mean is not None
        return math.log(self.mean) - self.sigma**2 / 2.0

    @property
    def mean_s(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2.0)


class Uniform(Strict):
    dist: Literal["uniform"]
    min: Duration
    max: Duration

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        if self.max < self.min:
            raise ValueError("'max' must be at least 'min'")
        return self

    @property
    def mean_s(self) -> float:
        return (self.min + self.max) / 2.0


class Normal(Strict):
    """Truncated at 0 (negative draws are redrawn), so its mean is above `mean` when sd is large."""

    dist: Literal["normal"]
    mean: Duration
    sd: Duration

    @property
    def mean_s(self) -> float:
        if self.sd == 0.0:
            return self.mean
        alpha = -self.mean / self.sd
        std = NormalDist()
        return self.mean + self.sd * std.pdf(alpha) / (1.0 - std.cdf(alpha))


class Gamma(Strict):
    dist: Literal["gamma"]
    mean: PositiveDuration
    cv: Number = Field(gt=0.0, le=bounds.MAX_FACTOR,
                       description="coefficient of variation, sd/mean")

    @property
    def mean_s(self) -> float:
        return self.mean


class Pareto(Strict):
    dist: Literal["pareto"]
    min: PositiveDuration
    alpha: Number = Field(gt=0.0, le=bounds.MAX_FACTOR,
                          description="tail index; the mean is finite only above 1")

    @property
    def mean_s(self) -> float:
        return math.inf if self.alpha <= 1.0 else self.alpha * self.min / (self.alpha - 1.0)


PERCENTILE_KEY = r"^p(0|100|\d{1,2}(\.\d+)?|9{3,})$"


def percentile_of(key: str) -> float:
    """'p50' -> 0.5, 'p999' -> 0.999, 'p9999' -> 0.9999, 'p99.5' -> 0.995."""
    digits = key[1:]
    if len(digits) >= 3 and set(digits) == {"9"}:
        return float("0." + digits)
    return float(digits) / 100.0


class Empirical(Strict):
    """A latency known only by its percentiles; between them the quantile function is linear.

    Below the first point it starts at `p0` (0 unless given); above the last it continues the
    slope of the last segment up to p100, unless `p100` is given.
    """

    dist: Literal["empirical"]
    percentiles: dict[Annotated[str, Field(pattern=PERCENTILE_KEY)], Duration] = Field(min_length=1)

    @field_validator("percentiles")
    @classmethod
    def _monotone(cls, value: dict[str, float]) -> dict[str, float]:
        points = sorted((percentile_of(k), v) for k, v in value.items())
        for (q1, v1), (q2, v2) in pairwise(points):
            if v2 < v1:
                raise ValueError(f"percentiles must not decrease: p{q2 * 100:g} < p{q1 * 100:g}")
        return value

    def knots(self) -> list[tuple[float, float]]:
        """(quantile, value) points of the piecewise-linear quantile function, from 0 to 1."""
        points = sorted((percentile_of(k), v) for k, v in self.percentiles.items())
        if points[0][0] > 0.0:
            points.insert(0, (0.0, 0.0 if points[0][1] > 0 else points[0][1]))
        if points[-1][0] < 1.0:
            (q1, v1), (q2, v2) = points[-2], points[-1]
            slope = (v2 - v1) / (q2 - q1) if q2 > q1 else 0.0
            points.append((1.0, v2 + slope * (1.0 - q2)))
        return points

    @property
    def mean_s(self) -> float:
        pts = self.knots()
        return sum((q2 - q1) * (v1 + v2) / 2.0
                   for (q1, v1), (q2, v2) in pairwise(pts))


class MixtureItem(Strict):
    weight: Number = Field(gt=0.0, le=1.0)
    dist: Distribution


class Mixture(Strict):
    dist: Literal["mixture"]
    of: list[MixtureItem] = Field(min_length=1, max_length=bounds.MAX_MIXTURE)

    @field_validator("of")
    @classmethod
    def _weights_sum_to_one(cls, value: list[MixtureItem]) -> list[MixtureItem]:
        total = sum(item.weight for item in value)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"mixture weights must sum to 1, they sum to {total:g}")
        return value

    @property
    def mean_s(self) -> float:
        return sum(item.weight * item.dist.mean_s for item in self.of)


def _family(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("dist", "missing"))
    if isinstance(value, BaseModel):
        return str(getattr(value, "dist", "invalid"))
    return "constant"  # a string, or a bare number that Constant refuses with a clear message


Distribution = Annotated[
    Annotated[Constant, Tag("constant")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[Lognormal, Tag("lognormal")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Normal, Tag("normal")]
    | Annotated[Gamma, Tag("gamma")]
    | Annotated[Pareto, Tag("pareto")]
    | Annotated[Empirical, Tag("empirical")]
    | Annotated[Mixture, Tag("mixture")],
    Discriminator(
        _family,
        custom_error_type="distribution",
        custom_error_message="a distribution is a duration like '4ms' or a mapping with "
        "dist: constant | exponential | lognormal | uniform | normal | gamma | pareto | "
        "empirical | mixture",
    ),
]
AnyDistribution = Constant | Exponential | Lognormal | Uniform | Normal | Gamma | Pareto | \
    Empirical | Mixture

MixtureItem.model_rebuild()
ZERO = Constant.model_validate("0s")
