"""The report in a real browser (headless Chromium): no console errors, no request but the
file itself, data in every chart, and a screenshot that is not blank."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from tests.render.helpers import run

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
