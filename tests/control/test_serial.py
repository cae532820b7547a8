"""`Serial`: a controller called back from inside itself runs again after, never nested."""

from __future__ import annotations

from scalesim.sim.control.serial import Serial


def test_a_call_made_while_running_runs_once_more_after_and_not_inside() -> None:
    depth = 0
    log: list[tuple[int, int]] = []  # (run, depth)

    def work() -> None:
        nonlocal depth
        depth += 1
        log.append((len(log), depth))
        if len(log) == 1:
            serial()
            serial()  # two calls while running: one more run
        depth -= 1

    serial = Serial(work)
    serial()
    assert log == [(0, 1), (1, 1)]
    serial()  # and it can run again once done
    assert log[-1] == (2, 1)
