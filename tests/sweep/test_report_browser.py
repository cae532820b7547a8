"""The sweep report in headless Chromium: no console errors, no request but the file, every
curve drawn, confidence bands and the knee present, a screenshot that is not blank."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.render.test_browser import ARGS, CHROMIUM, png_grey_variance
from tests.sweep.specs import MM1

from scalesim.render.sweep import render_sweep_report
from scalesim.spec import load_spec_text
from scalesim.sweep.cache import PointCache
from scalesim.sweep.executor import Serial
from scalesim.sweep.grid import grid, parse_axis
from scalesim.sweep.runner import PointRun, run_points
from scalesim.sweep.table import document


@pytest.mark.slow
def test_sweep_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    axes = [parse_axis("workloads.0.rate=10/s..90/s:9")]
    runs = [PointRun(p, load_spec_text(MM1, overrides=[
        *p.overrides, "simulation.replications=3", "simulation.duration=30s"]))
        for p in grid(axes)]
    doc = document("mm1", 3, 3, axes, run_points(runs, 3, Serial(), PointCache(None)))
    assert doc["knees"], "an M/M/1 latency curve has a knee"
    report = tmp_path / "sweep.html"
    report.write_text(render_sweep_report(doc), encoding="utf-8")
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        lengths = page.eval_on_selector_all("svg.chart path[data-points]",
                                            "ps => ps.map(p => p.getTotalLength())")
        bands = page.eval_on_selector_all("svg.chart polygon[data-band]", "ps => ps.length")
        knees = page.eval_on_selector_all("svg.chart line[data-knee]", "ls => ls.length")
        shot = page.screenshot()
        browser.close()
    assert errors == []
    assert requests == [report.as_uri()]
    # p50, p90, p99; throughput, goodput; error rate
    assert len(lengths) == 6 and all(length > 0 for length in lengths)
    assert bands >= 5
    assert knees == 3
    assert png_grey_variance(shot) > 100
