"""`plan`'s rule for a queue falling behind is the diagnosis's: messages being processed are
part of the backlog, not behind it."""

from __future__ import annotations

import yaml

from scalesim.sim.run import run_replication
from scalesim.spec import System, load_spec_text
from scalesim.sweep.backlog import falling_behind


def _queue(concurrency: int) -> System:
    """20 messages/s of 3 s work each, through `concurrency` deliveries at a time."""
    spec = {"scalesim": 1, "name": "q",
            "components": {
                "jobs": {"kind": "queue", "consumers": [{"to": "worker.process",
                                                         "concurrency": concurrency}]},
                "worker": {"workers": "unlimited", "operations": {"process": {"work": "3s"}}}},
            "workloads": [{"name": "w", "to": "jobs.publish", "rate": "20/s"}],
            "simulation": {"duration": "60s", "seed": 1}}
    return load_spec_text(yaml.safe_dump(spec, sort_keys=False))


def test_deliveries_under_way_are_not_a_backlog_falling_behind() -> None:
    """100 deliveries of 3 s at 20/s: about 60 in flight (60 % busy), a flat backlog of about
    60 unsettled messages, all being processed: not behind (it was, at more than a second
    of arrivals). 50 deliveries drain 16.7/s of the 20/s: behind."""
    healthy, short = _queue(100), _queue(50)
    assert falling_behind(healthy, run_replication(healthy, 1, 0)) == ()
    assert falling_behind(short, run_replication(short, 1, 0)) == ("jobs->worker.process",)
