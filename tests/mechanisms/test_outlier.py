"""Envoy's consecutive-5xx detector: the ejection cap is a share of the hosts in the cluster
now (Envoy's `max_ejection_percent` over the cluster's hosts; a removed host takes its
outlier state with it), and at least one host may always be ejected."""

from __future__ import annotations

from scalesim.sim.mechanisms.outlier import OutlierDetector


def _detector(replicas: int, percent: float) -> OutlierDetector:
    return OutlierDetector(replicas, threshold=1, interval=10.0, base=30.0, max_time=300.0,
                           max_percent=percent)


def test_the_cap_counts_the_replicas_there_are_now_not_every_one_ever_made() -> None:
    detector = _detector(2, 0.5)
    for old, new in ((0, 2), (1, 3)):  # a rollout: two new replicas replace the two old
        detector.join(new)
        detector.leave(old)
    assert detector.hosts == 2
    assert detector.record(1.0, 2, failed=True)  # the first may always go
    assert not detector.record(1.0, 3, failed=True)  # 2 of 2 is over 50 %, as of 4 made


def test_a_replica_that_leaves_while_ejected_no_longer_counts_as_ejected() -> None:
    detector = _detector(4, 0.5)
    assert detector.record(0.0, 0, failed=True)
    assert detector.record(0.0, 1, failed=True)  # 2 of 4
    assert not detector.record(0.0, 2, failed=True)  # 3 of 4
    detector.leave(0)
    detector.join(4)
    assert detector.record(0.0, 2, failed=True)  # 2 of 4 again: replica 0 has gone
    assert not detector.record(0.0, 0, failed=True)  # and its late answers are not counted
    assert detector.ejected == [False, True, True, False, False]


def test_joining_replicas_make_room_and_count_once() -> None:
    detector = _detector(1, 1.0)
    detector.join(3)  # replicas 1 and 2 made but not started: not hosts yet
    detector.join(3)
    assert detector.hosts == 2 and detector.present == [True, False, False, True]
