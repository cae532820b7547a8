"""The harness's results as the markdown table docs/validation.md shows."""

from __future__ import annotations

from typing import Any

import numpy as np

TARGETS = {"mean_ms": 0.10, "p99_ms": 0.20}  # below 85 % of saturation


def _spread(values: list[float]) -> str:
    """The real runs' mean and their spread: ±half the range, as a share."""
    mean = float(np.mean(values))
    half = (max(values) - min(values)) / 2.0
    return f"{mean:.2f} ±{half / mean:.0%}" if mean else "—"


def _error(predicted: float | None, real: float) -> str:
    if predicted is None or not real:
        return "—"
    return f"{(predicted - real) / real:+.0%}"


def _processed(rows: list[dict[str, Any]], level: float) -> float:
    return float(np.mean([r["processed_rps"] for r in rows if r["level"] == level]))


def markdown(results: list[dict[str, Any]]) -> str:
    lines = []
    for result in results:
        name = result["scenario"]
        rows = result["rows"]
        sat = float(np.mean(result["saturation_rps"]))
        predicted_sat = result["predicted_saturation_rps"]
        loads = [r["load_average"] for r in rows]
        shares = [r["cpu_available"] for r in rows]
        lines += [f"### {name}", "",
                  f"Saturation: real {sat:.1f} rps (runs "
                  f"{', '.join(f'{v:.1f}' for v in result['saturation_rps'])}), "
                  f"predicted {predicted_sat['calibrated']:.1f} rps calibrated "
                  f"({_error(predicted_sat['calibrated'], sat)}), "
                  f"{predicted_sat['as_written']:.1f} rps as written "
                  f"({_error(predicted_sat['as_written'], sat)}). "
                  f"Load average during the runs {min(loads):.1f}–{max(loads):.1f} (2 cores); "
                  f"a busy process got {min(shares):.2f}–{max(shares):.2f} of a core.",
                  "",
                  "| load | rate rps | real mean ms | predicted (error) | as written | "
                  "real p50 ms | predicted (error) | real p99 ms | predicted (error) | "
                  "as written |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for prediction in result["predictions"]:
            level = [r for r in rows if r["level"] == prediction["level"]]
            real = {k: [r[k] for r in level] for k in ("mean_ms", "p50_ms", "p99_ms")}
            cal, raw = prediction["calibrated"], prediction["as_written"]
            means = {k: float(np.mean(v)) for k, v in real.items()}
            lines.append(
                f"| {prediction['level']:.0%} | {prediction['rate_rps']:.1f} | "
                f"{_spread(real['mean_ms'])} | {cal['mean_ms']:.2f} "
                f"({_error(cal['mean_ms'], means['mean_ms'])}) | "
                f"{raw['mean_ms']:.2f} ({_error(raw['mean_ms'], means['mean_ms'])}) | "
                f"{_spread(real['p50_ms'])} | {cal['p50_ms']:.2f} "
                f"({_error(cal['p50_ms'], means['p50_ms'])}) | "
                f"{_spread(real['p99_ms'])} | {cal['p99_ms']:.2f} "
                f"({_error(cal['p99_ms'], means['p99_ms'])}) | "
                f"{raw['p99_ms']:.2f} ({_error(raw['p99_ms'], means['p99_ms'])}) |")
        queue = [r for r in rows if "processed_rps" in r]
        if queue:
            lines += ["", "Messages processed by the worker (per s): " + "; ".join(
                f"{p['level']:.0%} real {_processed(queue, p['level']):.1f}, predicted "
                f"{p['calibrated'].get('processed_rps', float('nan')):.1f}"
                for p in result["predictions"]) + "."]
        fault = result.get("fault")
        if fault is not None:
            real, sim = fault["real"], fault["calibrated"]
            lines += ["", f"Fault (back fails every request from {6:g} s for {8:g} s at "
                      f"{real['rate_rps']:.1f} rps): breaker transitions real "
                      f"{real['transitions']}, simulated {sim['transitions']}; "
                      f"attempts per request real {real['amplification']:.3f}, simulated "
                      f"{sim['amplification']:.3f}; fallbacks real {real['fallbacks']:.0f}, "
                      f"simulated {sim['fallbacks']}."]
        lines.append("")
    return "\n".join(lines) + "\n"
