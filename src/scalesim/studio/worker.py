"""What runs in a worker process: load the spec, simulate it, send progress and the result
back over a pipe. Kept tiny so the fork server can preload the engine for fast starts."""

from __future__ import annotations

import time
from multiprocessing.connection import Connection

from scalesim.diagnosis import diagnose
from scalesim.sim import SafetyStop, simulate
from scalesim.spec import SpecError, load_spec_text
from scalesim.templates.check import check_against

PROGRESS_EVERY_S = 0.1


def run(conn: Connection, text: str, seed: int | None) -> None:
    """Send ("progress", fraction)* then ("done", result) or ("failed", message)."""
    last = 0.0

    def progress(fraction: float) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S:
            last = now
            conn.send(("progress", fraction))

    try:
        system = load_spec_text(text, "spec.yaml")
        result = simulate(system, seed, progress, with_series=True)
        result["diagnosis"] = diagnose(system, result)  # what is wrong and the smallest fix
        found = check_against(text, result)  # a spec `scalesim new` wrote: its expectations
        if found is not None:
            origin, checks = found
            result["template_checks"] = {"template": origin.template.id,
                                         "current": origin.current,
                                         "edited": origin.edited,
                                         "checks": [check.to_json() for check in checks]}
    except SafetyStop as stop:
        conn.send(("failed", f"stopped by a safety limit: {stop}"))
    except SpecError as error:
        conn.send(("failed", str(error)))
    except Exception as error:  # reported as a message; the traceback stays in the worker
        conn.send(("failed", f"the simulation failed: {type(error).__name__}"))
    else:
        conn.send(("done", result))
    finally:
        conn.close()
