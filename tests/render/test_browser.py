"""The report in a real browser (headless Chromium): no console errors, no request but the
file itself, data in every chart, and a screenshot that is not blank."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from tests.render.helpers import e_commerce, run

from scalesim.render.graphviz import MIN_FONT_PX
from scalesim.render.report import write_report

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def png_grey_variance(data: bytes) -> float:
    """Variance of the grey level of an 8-bit RGB(A) PNG, decoded with zlib alone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    total = total_sq = count = 0
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:
                                                            (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else
                                      up if pb <= pc else corner)) & 255
        previous = line
        for i in range(0, stride, channels * 7):  # a sample of the pixels is enough
            grey = (line[i] + line[i + 1] + line[i + 2]) / 3
            total, total_sq, count = total + grey, total_sq + grey * grey, count + 1
    mean = total / count
    return total_sq / count - mean * mean


@pytest.mark.slow
def test_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} is not installed")
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    system, result = run("contained", "simulation.duration=45s")
    report = tmp_path / "report.html"
    write_report(result, system, report)
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        charts = page.eval_on_selector_all(
            "svg.chart", "cs => cs.map(c => c.querySelectorAll("
            "'[data-points], [data-value]').length)")
        drawn = page.eval_on_selector_all(
            "svg.chart path[data-points]", "ps => ps.map(p => p.getTotalLength())")
        shot = page.screenshot()  # the first screen: summary and the first charts
        if os.environ.get("SCALESIM_REPORT_SCREENSHOT"):
            Path(os.environ["SCALESIM_REPORT_SCREENSHOT"]).write_bytes(
                page.screenshot(full_page=True))
        browser.close()
    assert errors == []
    assert requests == [report.as_uri()]
    assert len(charts) >= 8 and all(n > 0 for n in charts)
    assert drawn and all(length > 0 for length in drawn)
    assert png_grey_variance(shot) > 100


def _work_queue_30ms() -> tuple[object, dict]:
    from scalesim.sim import simulate
    from scalesim.spec import load_spec_text
    from scalesim.templates import get_template

    system = load_spec_text(get_template("work-queue").build({"job_ms": 30}).text)
    return system, simulate(system, 1, with_series=True)


@pytest.mark.slow
def test_report_charts_label_breaker_spans_and_show_queue_backlog(tmp_path: Path) -> None:
    """Looked at in Chromium: the contained example's charts carry the labelled fault window
    and breaker-open band (and hatch the intervals answered only by the fallback); the
    work-queue template with 30 ms jobs has its backlog and lag charts, rising."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    contained = tmp_path / "contained.html"
    write_report(run("contained")[1], run("contained")[0], contained)
    queue = tmp_path / "work-queue.html"
    system, result = _work_queue_30ms()
    write_report(result, system, queue)  # type: ignore[arg-type]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(contained.as_uri())
        labels = page.eval_on_selector_all("svg.chart text.mark", "ts => ts.map(t => "
                                           "[t.classList[1], t.textContent, "
                                           "t.getBoundingClientRect().width])")
        bands = page.eval_on_selector_all("svg.chart rect.breaker", "rs => rs.map(r => "
                                          "r.getBoundingClientRect().width)")
        widest_table = page.evaluate("Math.max(...[...document.querySelectorAll('table')]"
                                     ".map(t => t.getBoundingClientRect().right))")
        if os.environ.get("SCALESIM_REPORT_SCREENSHOT"):
            page.screenshot(path=os.environ["SCALESIM_REPORT_SCREENSHOT"], full_page=True)
        page.goto(queue.as_uri())
        backlog = page.eval_on_selector_all(
            "figure", "fs => fs.filter(f => f.querySelector('figcaption').textContent"
            ".startsWith('queue backlog')).map(f => [...f.querySelectorAll('path[data-points]')]"
            ".map(p => [p.getAttribute('data-points'), p.getBBox().height]))")
        shot = page.screenshot(full_page=True)
        browser.close()
    kinds = {kind for kind, _, width in labels if width > 0}
    assert kinds >= {"fault", "breaker", "empty"}
    assert ("fault", "fault: recs latency", ) in {(k, t) for k, t, _ in labels}
    assert bands and all(width > 0 for width in bands)
    assert widest_table <= 1400
    assert len(backlog) == 1 and backlog[0]
    points, height = backlog[0][0]
    assert int(points) >= 25 and height > 50  # one point per second, climbing the chart
    assert png_grey_variance(shot) > 100


@pytest.mark.slow
def test_a_wide_diagram_keeps_legible_labels_with_a_halo_in_chromium(tmp_path: Path) -> None:
    """The e-commerce diagram (about 2,300 px wide) on a 1366 px screen: scaled down no
    further than 10 px text, its box scrolls sideways instead, and every edge label is drawn
    over a halo of the background so the line under it does not cross its letters."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    system, result = e_commerce()
    report = tmp_path / "e-commerce.html"
    write_report(result, system, report)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(report.as_uri())
        box = page.eval_on_selector(".diagram", "d => [d.clientWidth, d.scrollWidth]")
        sizes = page.eval_on_selector_all(
            ".diagram text", "ts => ts.filter(t => t.closest('details') === null).map(t => "
            "t.getScreenCTM().a * parseFloat(t.getAttribute('font-size')))")
        halos = page.eval_on_selector_all(
            ".diagram g.edge text", "ts => ts.map(t => { const s = getComputedStyle(t); "
            "return [s.paintOrder, s.stroke, parseFloat(s.strokeWidth)]; })")
        browser.close()
    assert box[1] > box[0]  # wider than its box: it scrolls
    assert sizes and min(sizes) >= MIN_FONT_PX - 0.05
    assert halos and all(order.startswith("stroke") and stroke == "rgb(255, 255, 255)"
                         and width >= 3 for order, stroke, width in halos)
