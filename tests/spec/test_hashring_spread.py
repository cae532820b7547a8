"""How evenly the hash ring (spec/hashring.py) spreads keys, as docs/templates.md states it
for the sharded-service template: far wider than the ±10 % of 100 random points per
replica, since crc32 is linear and the labels hashed differ in a few bytes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from scalesim.spec import hashring

KEYS = 100_000  # the template's default key count, keys 0 … KEYS − 1
POINTS = hashring.key_points(np.arange(KEYS, dtype=np.int64))


def relative_shares(component: str, replicas: int) -> npt.NDArray[np.float64]:
    """Each replica's share of the keys over 1/replicas."""
    counts = np.bincount(hashring.owners(component, replicas, POINTS), minlength=replicas)
    shares: npt.NDArray[np.float64] = counts / KEYS * replicas
    return shares


def test_the_templates_default_four_shards_stay_within_20_percent() -> None:
    """At 1.5× overload a shard is busy while its share is above 1/1.5 of the mean."""
    shares = relative_shares("shard", 4)
    assert shares.min() == pytest.approx(0.80, abs=0.005)
    assert shares.max() == pytest.approx(1.20, abs=0.005)


def test_at_13_shards_the_lightest_is_below_what_the_overload_saturates() -> None:
    lightest = relative_shares("shard", 13).min()
    assert lightest == pytest.approx(0.545, abs=0.005)
    assert lightest < 1 / 1.5


@pytest.mark.parametrize(("replicas", "low", "high"), [(3, 0.14, 0.22), (11, 0.16, 0.25)])
def test_one_standard_deviation_is_about_a_fifth(replicas: int, low: float, high: float) -> None:
    """Over 40 component names (docs: 18 % at 3, 20 % at 11 over 200 names and 10⁶ keys);
    random points would give sqrt(1/100) = 10 %. The bounds hold the sampling error of
    the standard deviation over 40 names (about ±2.5 points at 2 standard errors)."""
    shares = np.concatenate([relative_shares(f"c{i}", replicas) for i in range(40)])
    assert low < float(shares.std()) < high
