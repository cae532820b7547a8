"""Test specs' callee that sometimes hangs: the work calibrate's cut-off tests give up on."""

from __future__ import annotations

MARK = "        work: HANGS"


def hanging(spec: str, hung: float = 0.1) -> str:
    """`spec` with its `work: HANGS` line the work of a callee answering in a lognormal time
    (median 8 ms, p99 30 ms), but for `hung` of its answers, which hang for 3 s."""
    work = (f"        work:\n          dist: mixture\n          of:\n"
            f"            - {{weight: {1 - hung:g}, dist: {{dist: lognormal, median: 8ms, "
            f"p99: 30ms}}}}\n"
            f"            - {{weight: {hung:g}, dist: 3s}}")
    assert spec.count(MARK) == 1
    return spec.replace(MARK, work)
