"""A fix's `--set` line is pasted into a shell: it must split back into the same settings."""

from __future__ import annotations

import shlex

from scalesim.render.html import set_options

SETTINGS = ["components.app.replicas=7",
            "components.gateway.operations.checkout.calls.0.retry={attempts: 3, jitter: full}",
            "faults=[]",
            "workloads.0.slo.p99=400ms"]


def test_a_fix_line_splits_back_into_its_settings() -> None:
    words = shlex.split(set_options(SETTINGS))
    assert words[0::2] == ["--set"] * len(SETTINGS)
    assert words[1::2] == SETTINGS


def test_a_plain_setting_stays_unquoted() -> None:
    assert set_options(["components.app.replicas=7"]) == "--set components.app.replicas=7"
