"""Bad resilience settings are clear errors that name the field."""

from __future__ import annotations

import pytest
import yaml
from tests.spec.located import assert_located_error


def spec(call: dict | None = None, component: dict | None = None,
         fault: dict | None = None) -> str:
    data = {"scalesim": 1, "name": "x",
            "components": {"a": {"operations": {"op": {"calls": [{"to": "b", **(call or {})}]}}},
                           "b": {"operations": {"op": {"work": "1ms"}}, **(component or {})}},
            "workloads": [{"name": "w", "to": "a", "rate": "1/s"}],
            "faults": [fault] if fault else []}
    return yaml.safe_dump(data, sort_keys=False)


BAD = [
    ({"call": {"retry": {"attempts": 0}}}, "retry.attempts", "greater than or equal to 1"),
    ({"call": {"retry": {"attempts": -2}}}, "retry.attempts", "greater than or equal to 1"),
    ({"call": {"retry": {"base": "1s", "max": "10ms"}}}, "retry", "'max' must be at least"),
    ({"call": {"retry": {"on": ["eror"]}}}, "retry.on[0]", "did you mean 'error'?"),
    ({"call": {"circuit_breaker": {"failure_rate": "150%"}}},
     "circuit_breaker.failure_rate", "between 0 and 1"),
    ({"call": {"circuit_breaker": {"failure_rate": 0}}},
     "circuit_breaker.failure_rate", "above 0%"),
    ({"call": {"circuit_breaker": {"window": 0}}}, "circuit_breaker.window",
     "greater than or equal to 1"),
    ({"call": {"bulkhead": {"max_concurrent": 0}}}, "bulkhead.max_concurrent",
     "greater than or equal to 1"),
    ({"call": {"hedge": {"after": "p42"}}}, "hedge.after", ""),
    ({"call": {"async": True, "retry": {}}}, "calls[0]", "an async call does not wait"),
    ({"component": {"load_shedding": {"max_queue_wait": "1s", "codel_target": "5ms"}}},
     "load_shedding", "exactly one of"),
    ({"component": {"rate_limit": {"rate": "0/s"}}}, "rate_limit.rate", "greater than 0"),
    ({"component": {"health": {"readiness": {"period": "0s"}}}},
     "health.readiness.period", "greater than 0"),
    ({"component": {"outlier_detection": {"max_ejection_percent": "120%"}}},
     "outlier_detection.max_ejection_percent", "between 0 and 1"),
    ({"fault": {"target": "b", "partition": {"with": "c"}}}, "faults[0].partition.with",
     "no component 'c'"),
    ({"fault": {"target": "b", "pause": {"every": "1s"}}}, "faults[0].pause.for",
     "required field is missing"),
    ({"fault": {"target": "b"}}, "faults[0]", "a fault needs at least one of"),
    ({"fault": {"target": "b", "pause": {"every": "1s", "for": "2s"}}}, "faults[0].pause",
     "shorter than the time between pauses"),
]


@pytest.mark.parametrize(("parts", "path", "message"), BAD, ids=[b[1] for b in BAD])
def test_bad_settings_are_located_errors(parts: dict, path: str, message: str) -> None:
    assert_located_error(spec(**parts), path, message)
