"""The studio in a real browser (headless Chromium, Playwright) against a real server on
localhost: the flow the issue names, a bad edit shown on its line and its node, and a
screenshot of every page (saved under test-artifacts/studio/, gitignored)."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from tests.render.test_browser import ARGS, CHROMIUM, png_grey_variance

from scalesim.studio import StudioConfig, create_app
from scalesim.studio.config import STATIC_DIR
from scalesim.templates.registry import template_ids

ARTIFACTS = Path(os.environ.get("SCALESIM_ARTIFACTS", Path(__file__).parents[2] /
                                "test-artifacts")) / "studio"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail("the studio's front end is not built: run `make studio`")
    database = tmp_path_factory.mktemp("studio") / "studio.db"
    app = create_app(StudioConfig(db_url=f"sqlite:///{database}",
                                  allowed_hosts=("127.0.0.1", "localhost")))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    running.should_exit = True
    thread.join(timeout=15)
    sock.close()


def shot(page: Any, name: str, full: bool = False) -> bytes:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    data: bytes = page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)
    assert png_grey_variance(data) > 100, f"{name} looks blank"
    return data


def editor_text(page: Any) -> str:
    """What the YAML editor shows (the lines in its viewport)."""
    text: str = page.inner_text(".cm-content")
    return text


@pytest.mark.slow
def test_studio_flow_in_chromium(server: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    errors: list[str] = []
    outside: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900},
                                      accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(server) or r.url.startswith(
            ("data:", "blob:")) else outside.append(r.url))

        # Gallery -> the circuit-breaker template.
        page.goto(server)
        card = page.locator("[data-template=circuit-breaker]")
        expect(card).to_be_visible()
        expect(page.locator(".template-card")).to_have_count(len(template_ids()))
        shot(page, "1-gallery")
        page.get_by_role("button", name="Pattern catalog…").click()
        page.get_by_label("search patterns").fill("zzqxv nothing like it")  # said nothing
        expect(page.get_by_test_id("no-match")).to_have_text(
            "No pattern matches 'zzqxv nothing like it'.")
        page.get_by_label("search patterns").fill("circuit braker")
        page.get_by_role("button", name="Circuit Breaker", exact=True).click()
        expect(page.locator(".drawer-entry h3")).to_have_text("Circuit Breaker")
        expect(page.locator(".relation-graph")).to_be_visible()
        # it counters Cascading Failure (the API's conflicts_with, read as the CLI reads it),
        # and says why, as the CLI's `patterns show` does
        expect(page.locator(".relations li", has_text="Cascading Failure")).to_have_text(
            re.compile(r"^counters Cascading Failure — \S.+"))
        shot(page, "2-patterns")
        page.get_by_role("button", name="Close").click()
        card.get_by_role("button", name="Open in designer").click()

        # Design: change replicas in the side panel, see the YAML follow.
        node = page.locator(".react-flow__node[data-id=checkout]")
        expect(node).to_be_visible()
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        node.click()
        replicas = page.locator("#f-components-checkout-replicas")
        expect(replicas).to_have_value("2")
        replicas.fill("4")
        replicas.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('.cm-content').innerText.includes('replicas: 4')")
        assert "# Never wait longer than this for the gateway." in editor_text(page)
        expect(node).to_contain_text("×4")

        # Connect a new node: add a cache, drag from checkout to it.
        page.get_by_label("kind of component to add").select_option("database")
        page.get_by_test_id("add-component").click()
        cache = page.locator(".react-flow__node[data-id=database]")
        expect(cache).to_be_visible()
        page.wait_for_timeout(300)
        source = node.locator(".react-flow__handle.source").bounding_box()
        target = cache.locator(".react-flow__handle.target").bounding_box()
        assert source and target
        page.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
        page.mouse.down()
        page.mouse.move(target["x"] + 2, target["y"] + 2, steps=12)
        page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2,
                        steps=4)
        page.mouse.up()
        expect(page.locator(".edge-label", has_text="pay → query")).to_be_visible()
        expect(page.get_by_test_id("status")).to_have_text(re.compile("valid"))
        page.get_by_role("button", name=re.compile("Undo")).click()
        page.get_by_role("button", name=re.compile("Redo")).click()
        expect(page.locator(".edge-label", has_text="pay → query")).to_be_visible()
        page.get_by_label("design name").fill("breaker demo")
        page.get_by_role("button", name=re.compile("^Save")).click()
        expect(page.locator(".notice")).to_contain_text("version 1")
        saved_design = page.request.get(server + "api/designs").json()[0]
        saved_spec = page.request.get(server + f"api/designs/{saved_design['id']}").json()["spec"]
        assert "- to: database\n" in saved_spec and "replicas: 4" in saved_spec
        assert "# Keep the order and queue the charge for later" in saved_spec
        shot(page, "3-design")

        # Simulate: p99, the breaker opening in the replay, charts, waterfall.
        page.click("a[data-page=simulate]")
        page.get_by_test_id("run").click()
        expect(page.get_by_test_id("run-status")).to_have_text("done", timeout=60_000)
        p99 = page.get_by_test_id("latency-p99").inner_text()
        assert re.search(r"p99\s+[\d.,]+\s*ms", p99, re.IGNORECASE), p99
        # every opening counted, as the CLI does (it re-opens after failed half-open probes)
        expect(page.get_by_test_id("breaker-summary")).to_contain_text(
            re.compile(r"opened \d+ times, from [\d.]+ s to [\d.]+ s"))
        slider = page.get_by_test_id("replay-slider")
        slider.fill("0")
        breaker_edge = page.locator(".edge-label", has_text="pay → charge")
        expect(breaker_edge).to_contain_text("breaker closed")
        expect(page.get_by_test_id("replay-time")).to_contain_text("warm-up")
        slider.fill("3")
        expect(breaker_edge.locator(".badge-open")).to_contain_text("breaker OPEN")
        # 8, the degraded answers (the breaker's fallback answers every request) and the
        # attempts its open breaker refuses in the caller
        expect(page.locator(".chart")).to_have_count(10)
        expect(page.locator(".chart", has_text="Degraded answers (fallbacks)")).to_be_visible()
        expect(page.locator(".chart", has_text="Refused in the caller")).to_be_visible()
        expect(page.get_by_test_id("waterfall")).to_be_visible()
        shot(page, "4-simulate", full=True)

        expect(page.get_by_test_id("apply-fix").first).to_be_visible()  # the open design's run

        # A second run (another seed) to compare.
        page.get_by_placeholder("from spec").fill("2")
        page.get_by_test_id("run").click()
        expect(page.get_by_test_id("run-status")).to_have_text("done", timeout=60_000)
        page.click("a[data-page=compare]")
        expect(page.get_by_test_id("deltas")).to_be_visible()
        expect(page.locator(".deltas tbody tr").first).to_be_visible()
        expect(page.get_by_test_id("seed-hint")).to_contain_text(
            "different seeds (1 and 2): differences include sampling noise")
        # The runs compared may be any design's: their fixes are shown, never applied here.
        expect(page.get_by_test_id("finding").first).to_be_visible()
        expect(page.get_by_test_id("apply-fix")).to_have_count(0)
        shot(page, "5-compare", full=True)

        # Generate: preview, then the zip.
        page.click("a[data-page=generate]")
        # circuit-breaker has no gateway with a rate limit: kong would write nothing, and
        # says so before it is picked (POST /api/generate/targets)
        expect(page.locator("label[data-empty]", has_text="kong")).to_have_attribute(
            "title", re.compile(r"^kong: nothing to generate: the spec has no component"))
        expect(page.locator("label[data-empty]", has_text="k8s")).to_have_count(0)
        page.get_by_test_id("preview").click()
        expect(page.locator(".file-list li")).not_to_have_count(0)
        page.get_by_role("button", name="k8s/checkout.yaml").click()
        expect(page.locator(".file-content mark", has_text="4").first).to_be_visible()
        shot(page, "6-generate")
        with page.expect_download() as download:
            page.get_by_test_id("download").click()
        saved = ARTIFACTS / download.value.suggested_filename
        download.value.save_as(saved)
        archive = zipfile.ZipFile(io.BytesIO(saved.read_bytes()))
        assert "circuit-breaker/k8s/checkout.yaml" in archive.namelist()
        assert "replicas: 4" in archive.read("circuit-breaker/k8s/checkout.yaml").decode()

        # History: the saved design and both runs.
        page.click("a[data-page=history]")
        expect(page.get_by_role("button", name="breaker demo")).to_be_visible()
        expect(page.locator(".list").nth(1).locator("tbody tr")).to_have_count(2)
        shot(page, "7-history")

        # A bad edit in the YAML: the error on its line and on its node.
        page.click("a[data-page=design]")
        line = page.locator(".cm-line", has_text="replicas: 4")
        line.click()
        page.keyboard.press("End")
        page.keyboard.press("Backspace")
        page.keyboard.type("0")
        expect(page.get_by_test_id("status")).to_have_text("1 error")
        number = saved_spec.splitlines().index("    replicas: 4") + 1  # the same line count
        expect(page.get_by_test_id("error-list")).to_contain_text(
            re.compile(rf"line {number}:\d+ components\.checkout\.replicas"))
        expect(page.locator(".cm-lintRange-error")).to_have_count(1)
        expect(page.locator(".cm-lint-marker-error")).to_have_count(1)
        expect(node.get_by_test_id("node-error")).to_have_text("1")
        node.click()
        expect(page.locator(".field.invalid .field-error")).to_contain_text(
            "at least 1")
        shot(page, "8-design-error")
        browser.close()
    assert errors == []
    assert outside == [], "the studio works offline: no request leaves the server"


@contextmanager
def gallery(server: str) -> Iterator[Any]:
    """A Chromium page on the studio's gallery (skipped, saying why, without Chromium)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(20_000)
        page.goto(server)
        yield page
        browser.close()


@contextmanager
def replayed(server: str, template: str, width: int = 1440) -> Iterator[Any]:
    """A page with `template` opened in the designer and simulated, on the Simulate page."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        page.set_viewport_size({"width": width, "height": 900 if width == 1440 else 768})
        page.locator(f"[data-template={template}]").get_by_role(
            "button", name="Open in designer").click()
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        page.click("a[data-page=simulate]")
        page.get_by_test_id("run").click()
        expect(page.get_by_test_id("run-status")).to_have_text("done", timeout=60_000)
        yield page


@pytest.mark.slow
def test_canary_replay_in_chromium(server: str) -> None:
    """The canary template replayed: both versions' replica sets with their traffic shares and
    the rollout's weight at a time, then its abort (templates.md: aborted at 80 s)."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, "canary") as page:
        api = page.locator(".replay-canvas .react-flow__node[data-id=api]")
        slider = page.get_by_test_id("replay-slider")
        slider.fill("70")
        expect(api).to_contain_text("base 10/10 ready · 90% of traffic")
        expect(api).to_contain_text("v2 1/1 ready · 10% of traffic")
        expect(api).to_contain_text("canary → v2: weight 10%")
        expect(page.locator(".chart figcaption", has_text="Replicas ready")).to_be_visible()
        shot(page, "9-canary-replay")
        slider.fill("85")
        expect(api).to_contain_text("canary → v2 aborted at 80 s")
        expect(api.locator(".node-alert")).to_contain_text("rollout aborted")


@pytest.mark.slow
def test_call_traffic_replay_in_chromium(server: str) -> None:
    """The retry-backoff template replayed: its edge carries the interval's attempts and the
    retries made (10 % of attempts fail and are retried), from the calls series, not
    a run average; the charts include the retries."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, "retry-backoff") as page:
        edge = page.locator(".replay-canvas .edge-label", has_text="get")
        page.get_by_test_id("replay-slider").fill("15")
        expect(edge).to_contain_text(re.compile(r"\d+/s retried"))
        expect(edge).not_to_contain_text("avg")
        expect(page.locator(".chart figcaption", has_text="Retries")).to_be_visible()
        shot(page, "12-call-traffic-replay")


@pytest.mark.slow
def test_queue_traffic_replay_in_chromium(server: str) -> None:
    """The work-queue template replayed: the queue → worker edge carries the interval's
    deliveries from the queues series, and says the queue is backing up during the burst
    (2400/s published from 8 s to 13 s against 1600/s of workers), not before it; the
    producer's edge keeps its calls. The labels stay legible: none covers a node."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, "work-queue") as page:
        slider = page.get_by_test_id("replay-slider")
        canvas = page.locator(".replay-canvas")
        deliver = canvas.locator('.edge-label[data-edge="components.jobs.consumers[0]"]')
        publish = canvas.locator(".edge-label", has_text="submit → publish")
        slider.fill("5.5")
        expect(deliver).to_contain_text(re.compile(r"\d+/s delivered"))
        expect(deliver).not_to_contain_text("backing up")
        slider.fill("11.5")
        expect(deliver).to_contain_text(re.compile(r"1[45]\d\d/s delivered"))
        expect(deliver.locator(".badge-warn")).to_have_text("backing up")
        expect(publish).to_contain_text(re.compile(r"2\d\d\d/s"))
        expect(publish).not_to_contain_text("published")
        labels = [deliver, publish]
        nodes = [canvas.locator(f".react-flow__node[data-id={name}]")
                 for name in ("api", "jobs", "worker")]
        for label in labels:
            for node in nodes:
                assert not overlap(label.bounding_box(), node.bounding_box())
        assert not overlap(deliver.bounding_box(), publish.bounding_box())
        shot(page, "21-queue-traffic-replay")
        # Zoomed in on the queue, its labels read at full size and still cover no node.
        jobs = nodes[1].bounding_box()
        assert jobs
        page.mouse.move(jobs["x"] + jobs["width"] / 2, jobs["y"] + jobs["height"] / 2)
        for _ in range(3):
            page.mouse.wheel(0, -100)
            page.wait_for_timeout(150)
        expect(deliver).to_be_in_viewport()
        for label in labels:
            for node in nodes:
                assert not overlap(label.bounding_box(), node.bounding_box())
        shot(page, "22-queue-traffic-replay-zoomed")


@pytest.mark.slow
@pytest.mark.parametrize("template", ["work-queue", "e-commerce", "banking-transfer",
                                      "social-feed"])
def test_a_design_replays_whole_at_1280_in_chromium(server: str, template: str) -> None:
    """In a 1280 × 800 window the replay's canvas shows a design whole at a readable zoom,
    laid top to bottom: a chain of four (work-queue), whose last node stood off the right
    edge of a 480 px tall pane, e-commerce's 13 nodes, whose rank of six stood off the
    right edge of the 900 px wide pane ("drag the canvas to see the rest"), and the six
    ranks of social-feed and banking-transfer's rows under its stack of labels, whose
    bottom row stood under the pane's bottom edge (110 px between rows)."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, template) as page:
        page.set_viewport_size({"width": 1280, "height": 800})
        canvas = page.locator(".replay-canvas")
        expect(canvas.get_by_test_id("canvas")).to_have_attribute("data-direction", "TB")
        page.wait_for_timeout(600)  # the fit's 50 ms delay and 200 ms move
        expect(canvas.get_by_test_id("canvas-cut")).to_have_count(0)
        pane = canvas.bounding_box()
        assert pane
        for node in canvas.locator(".react-flow__node").all():
            box = node.bounding_box()
            assert box and pane["x"] <= box["x"] and pane["y"] <= box["y"]
            assert box["x"] + box["width"] <= pane["x"] + pane["width"]
            assert box["y"] + box["height"] <= pane["y"] + pane["height"]
            assert box["width"] >= 0.75 * 180  # a readable zoom: nodes are 180 px wide
        # the rank's nodes closer together, a fan-out's labels still clear of one another
        labels = [label.bounding_box() for label in canvas.locator(".edge-label").all()]
        assert not any(overlap(a, b) for i, a in enumerate(labels) for b in labels[i + 1:])
        # rows only as far apart as their labels need, which stay clear of the nodes
        nodes = [node.bounding_box() for node in canvas.locator(".react-flow__node").all()]
        assert not any(overlap(label, node) for label in labels for node in nodes)
        slider = page.get_by_test_id("replay-slider").bounding_box()
        assert slider and slider["y"] + slider["height"] <= 800  # the slider still in view
        shot(page, f"23-{template}-replay-1280")


@pytest.mark.slow
@pytest.mark.parametrize("template", ["canary", "e-commerce", "autoscaling"])
def test_the_replay_fits_a_1024_window_in_chromium(server: str, template: str) -> None:
    """In a 1024 × 768 window the replay (its canvas and summary, the time slider's bar and
    the charts under it) stays within the window's width: nothing is cut off on the right
    and the page does not scroll sideways."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, template, 1024) as page:
        expect(page.locator(".chart").first).to_be_visible()
        page.wait_for_timeout(300)  # the charts' resize
        # main scrolls: its right edge is the window's less its scrollbar
        width = page.evaluate("() => document.querySelector('main').clientWidth")
        shot(page, f"25-{template}-replay-1024")
        page.locator(".charts").scroll_into_view_if_needed()
        shot(page, f"25-{template}-replay-1024-charts")
        # what scrolls sideways or hides its overflow, bar the canvas's own pane
        cut = page.evaluate("() => [...document.querySelectorAll('main, main *')].filter("
                            "(e) => !e.closest('.react-flow') && e.scrollWidth > e.clientWidth"
                            " + 1 && getComputedStyle(e).overflowX !== 'visible').map("
                            "(e) => e.className)")
        assert cut in ([], ["queues-table"]), cut  # a wide table of queues may scroll
        parts = ".replay-canvas, .summary, [data-testid=replay] > *, .chart, .chart canvas"
        for part in page.locator(parts).all():
            box = part.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, \
                (part.evaluate("(e) => e.outerHTML.slice(0, 80)"), box, width)


@pytest.mark.slow
def test_leader_election_replay_in_chromium(server: str) -> None:
    """The leader-election template replayed: the scheduler's leader before the crash at
    20 s, no leader for at least lease_duration − retry_period (1.5 s) after it, then
    another replica; the diagnosis names the failed jobs and its fix applies to the design."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, "leader-election") as page:
        node = page.locator(".replay-canvas .react-flow__node[data-id=scheduler]")
        slider = page.get_by_test_id("replay-slider")
        slider.fill("10")
        expect(node).to_contain_text("leader: replica 0")
        slider.fill("21")
        expect(node).to_contain_text("no leader")
        expect(node.locator(".node-alert")).to_contain_text("leader-only operations are refused")
        shot(page, "10-leader-election-replay")
        slider.fill("30")
        expect(node).to_contain_text(re.compile(r"leader: replica [12]"))
        expect(page.get_by_test_id("election-summary")).to_contain_text(
            re.compile(r"scheduler \(lease\): 1 failover, at most [\d.]+ s · without a leader"))
        # The template's own expectations for its scenario, as `scalesim simulate` prints them.
        expect(page.get_by_test_id("template-checks")).to_contain_text(
            re.compile(r"Expected by template leader-election: 5/5 met"))
        # The diagnosis: the failed jobs, caused by the crash; its fix (the failover's:
        # a shorter lease, scaled with its renewals) applies to the design.
        finding = page.get_by_test_id("finding").first
        expect(finding).to_contain_text("requests failed")
        expect(finding).to_contain_text(
            "--set components.scheduler.leader_election.lease_duration=")
        expect(page.get_by_test_id("stale")).to_have_count(0)
        expect(finding.get_by_test_id("apply-fix")).to_have_text("Apply")
        finding.get_by_test_id("apply-fix").click()
        expect(page.locator(".notice")).to_contain_text(
            "applied components.scheduler.leader_election.lease_duration=")
        # Applied once, the button says so and cannot be pressed again for nothing.
        expect(finding.get_by_test_id("apply-fix")).to_have_text("Applied")
        expect(finding.get_by_test_id("apply-fix")).to_be_disabled()
        # The results on screen are now the old design's, and the page says so.
        expect(page.get_by_test_id("stale")).to_contain_text(
            "the design has changed since this run")
        page.click("a[data-page=design]")
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        assert "lease_duration: 2s" not in editor_text(page)
        # The applied fix is an unsaved edit: opening another template asks first, and
        # declining keeps it.
        asked: list[str] = []

        def decline(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", decline)
        page.click("a[data-page=gallery]")
        page.locator("[data-template=canary]").get_by_role(
            "button", name="Open in designer").click()
        assert asked == ["Discard the unsaved changes to 'leader-election'?"]
        page.click("a[data-page=design]")
        text = editor_text(page)
        assert "lease_duration: 2s" not in text and "leader_election" in text


@pytest.mark.slow
def test_each_workloads_own_numbers_in_chromium(server: str) -> None:
    """e-commerce's two workloads: the cards mix them (a fast browse hides a slow checkout),
    so the Simulate page lists each workload's p50, p99, rate and errors, as the CLI does."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, "e-commerce") as page:
        table = page.get_by_test_id("workloads")
        expect(table.locator("tbody tr")).to_have_count(2)
        expect(table).to_contain_text("checkout")
        expect(table).to_contain_text("browse")
        shot(page, "11-workloads", full=True)


@pytest.mark.slow
def test_a_template_opens_with_its_parameters_in_chromium(server: str) -> None:
    """The gallery sets a template's parameters (scalesim new --set): circuit-breaker
    without its breaker, and a wrong value refused with the server's reason."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        card = page.locator("[data-template=circuit-breaker]")
        card.get_by_test_id("parameters").click()
        form = card.get_by_test_id("parameter-form")
        form.locator("input[data-param=rps]").fill("abc")
        form.get_by_test_id("open-with-values").click()
        # Each parameter's help and allowed values show under it, and a refused value's
        # reason under its own field, not in one block under the form.
        rps = form.locator("[data-param-field=rps]")
        expect(rps.locator(".hint")).to_have_text(
            "checkouts per second · a number from 1 to 2000 (req/s)")
        form.locator("input[data-param=timeout_ms]").fill("-3")
        form.get_by_test_id("open-with-values").click()
        # text that is not a number is named as such; the other fields are still checked
        expect(rps.locator(".field-error")).to_contain_text(
            "rps=abc: not a number; allowed: a number from 1 to 2000 (req/s)")
        timeout = form.locator("[data-param-field=timeout_ms] .field-error")
        expect(timeout).to_contain_text("timeout_ms=-3")
        expect(timeout).not_to_contain_text("rps=")
        shot(page, "18-parameters-bad")
        # a field's error goes as soon as it is edited; the others stay
        form.locator("input[data-param=timeout_ms]").fill("1000")
        expect(timeout).to_have_count(0)
        expect(rps.locator(".field-error")).to_contain_text("rps=abc")
        form.locator("input[data-param=rps]").fill("150")
        form.get_by_label("with_breaker").uncheck()
        form.get_by_test_id("open-with-values").click()
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        text = editor_text(page)
        assert "with_breaker=false, rps=150" in text and "circuit_breaker" not in text
        shot(page, "12-parameters")


@pytest.mark.slow
def test_a_choice_parameter_shows_its_longest_choice_in_chromium(server: str) -> None:
    """A parameter with choices (load-balanced-service's balancer) is a select wide enough
    for its longest choice, least_requests, not cut to 'least_req'."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        card = page.locator("[data-template=load-balanced-service]")
        card.get_by_test_id("parameters").click()
        balancer = card.locator("[data-param-field=balancer] select")
        expect(balancer).to_be_visible()
        balancer.select_option("least_requests")
        # the width the longest option's text takes in the select's font, and the room left
        # for it inside the select (its arrow and padding take the rest)
        text, room = balancer.evaluate("""(select) => {
            const probe = document.createElement("span");
            probe.style.font = getComputedStyle(select).font;
            probe.style.whiteSpace = "pre";
            probe.textContent = [...select.options].map((o) => o.text)
                .reduce((a, b) => (b.length > a.length ? b : a));
            document.body.append(probe);
            const width = probe.getBoundingClientRect().width;
            probe.remove();
            const style = getComputedStyle(select);
            return [width, select.clientWidth - parseFloat(style.paddingLeft)
                    - parseFloat(style.paddingRight) - 16];
        }""")
        assert room >= text, f"the select leaves {room:.0f} px for a {text:.0f} px choice"
        card.scroll_into_view_if_needed()
        shot(page, "20-parameters-choice")


def opened(page: Any, template: str) -> None:
    """Open `template` from the gallery in the designer and wait until it is valid."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page.locator(f"[data-template={template}]").get_by_role(
        "button", name="Open in designer").click()
    expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))


def overlap(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    assert a and b
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.slow
def test_one_undo_history_for_editor_and_buttons_in_chromium(server: str) -> None:
    """Ctrl+Z in the YAML editor steps through the same history as the Undo button: after
    undoing a canvas edit and a typed one in the editor, the Undo button has nothing left
    (it used to re-apply them), and Redo in the editor brings both back in order."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        opened(page, "retry-backoff")
        original = page.evaluate("() => document.querySelector('.cm-content').innerText")
        undo = page.get_by_role("button", name=re.compile("Undo"))
        expect(undo).to_be_disabled()
        page.get_by_label("kind of component to add").select_option("cache")
        page.get_by_test_id("add-component").click()
        expect(page.locator(".react-flow__node[data-id=cache]")).to_be_visible()
        line = page.locator(".cm-line", has_text="rate: 500/s")
        line.click()
        page.keyboard.press("End")
        for _ in "500/s":
            page.keyboard.press("Backspace")
        page.keyboard.type("600/s")
        expect(page.locator(".cm-line", has_text="rate: 600/s")).to_be_visible()
        page.wait_for_timeout(1200)  # typing after a pause is its own step
        page.keyboard.press("Control+z")
        expect(page.locator(".cm-line", has_text="rate: 500/s")).to_be_visible()
        expect(page.locator(".react-flow__node[data-id=cache]")).to_be_visible()
        page.keyboard.press("Control+z")
        expect(page.locator(".react-flow__node[data-id=cache]")).to_have_count(0)
        expect(undo).to_be_disabled()
        assert page.evaluate("() => document.querySelector('.cm-content').innerText") == original
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        shot(page, "13-editor-undo")
        page.keyboard.press("Control+Shift+Z")
        expect(page.locator(".react-flow__node[data-id=cache]")).to_be_visible()
        expect(page.locator(".cm-line", has_text="rate: 500/s")).to_be_visible()
        page.get_by_role("button", name=re.compile("Redo")).click()
        expect(page.locator(".cm-line", has_text="rate: 600/s")).to_be_visible()
        undo.click()
        expect(page.locator(".cm-line", has_text="rate: 500/s")).to_be_visible()
        expect(page.locator(".react-flow__node[data-id=cache]")).to_be_visible()


@pytest.mark.slow
def test_retry_and_queue_from_the_side_panel_in_chromium(server: str) -> None:
    """retry → add writes `retry: {}`: the edge says "retry ×3" (the engine's default) and
    the back-off defaults read with their unit. A queue is added with a consumer, so the spec
    stays valid."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        opened(page, "circuit-breaker")
        edge = page.locator(".edge-label", has_text="pay → charge")
        edge.click()
        retry = page.locator("fieldset.group", has=page.locator("legend", has_text="retry"))
        retry.get_by_role("button", name="add").click()
        expect(page.locator(".cm-content")).to_contain_text("retry: {}")
        expect(edge).to_contain_text("retry ×3")
        for field, default in (("base", "default: 25ms"), ("max", "default: 250ms")):
            expect(page.locator(f"[id$='-retry-{field}']")).to_have_attribute(
                "placeholder", default)
        shot(page, "14-retry-added")

        page.get_by_label("kind of component to add").select_option("queue")
        page.get_by_test_id("add-component").click()
        expect(page.locator(".react-flow__node[data-id=worker]")).to_be_visible()
        expect(page.get_by_test_id("queue-consumers")).to_contain_text("consumers: worker.handle")
        expect(page.locator(".notice")).to_contain_text("'worker' as its consumer")
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        shot(page, "15-queue-added")


@pytest.mark.slow
def test_a_yaml_syntax_error_in_chromium(server: str) -> None:
    """A YAML syntax error makes the side panel's form unavailable, with the error (it showed
    an empty spec's form); the error list sits beside the zoom controls and a notice covers
    neither it nor any control."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        opened(page, "work-queue")
        expect(page.locator(".side-head")).to_contain_text("work-queue")
        line = page.locator(".cm-line", has_text="kind: queue")
        line.click()
        page.keyboard.press("End")
        page.keyboard.press("Enter")
        page.keyboard.type("oops")
        expect(page.get_by_test_id("status")).to_have_text(re.compile("error"))
        unavailable = page.get_by_test_id("form-unavailable")
        expect(unavailable).to_contain_text("unavailable until the YAML parses")
        expect(unavailable).to_contain_text("line ")
        expect(page.get_by_test_id("side-panel").locator("input")).to_have_count(0)
        errors = page.get_by_test_id("error-list")
        expect(errors).to_be_visible()
        assert not overlap(errors.bounding_box(),
                           page.locator(".react-flow__controls").bounding_box())
        for button in page.locator(".react-flow__controls button").all():
            expect(button).to_be_visible()
        # A notice (here: an edit refused while the YAML is broken) leaves the list readable.
        page.get_by_label("kind of component to add").select_option("database")
        page.get_by_test_id("add-component").click()
        notice = page.locator(".notice")
        expect(notice).to_contain_text("syntax errors")
        assert not overlap(errors.bounding_box(), notice.bounding_box())
        # nor any control, the editor or the canvas (it stood over the editor and the canvas)
        covered = "button, input, select, .cm-content, [data-testid=canvas]"
        for control in page.locator(covered).all():
            if control.is_visible():
                box = control.bounding_box()
                assert not overlap(box, notice.bounding_box()), control.inner_text()
        shot(page, "16-syntax-error")


LONG_NOTICE = "could not check the spec: " + " ".join(
    f"reason {i}, a sentence long enough to wrap the notice" for i in range(12))


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 800])
def test_a_notice_of_any_length_covers_no_control_in_chromium(server: str, width: int) -> None:
    """A notice stays within the header, beside the design's name, whatever its length: one
    of three lines (a queue added) reached down over the Design page's status at 1280 px and
    over Undo and Redo at 800. A longer one scrolls inside it, and stays while the pointer
    rests on it, to be read."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        page.set_viewport_size({"width": width, "height": 800})
        opened(page, "work-queue")
        notice = page.locator(".notice")
        controls = "header a, .design-name, button, input, select, [data-testid=status]"

        def covers_nothing() -> None:
            box = notice.bounding_box()
            header = page.locator("header").bounding_box()
            assert box and header
            assert header["y"] <= box["y"]
            assert box["y"] + box["height"] <= header["y"] + header["height"]
            for control in page.locator(controls).all():
                if control.is_visible():
                    assert not overlap(control.bounding_box(), box), control.inner_text()

        page.get_by_label("kind of component to add").select_option("queue")
        page.get_by_test_id("add-component").click()
        expect(notice).to_contain_text("as its consumer (a queue needs one)")
        covers_nothing()
        page.route("**/api/validate", lambda route: route.fulfill(
            status=500, content_type="application/json", body=json.dumps({"error": LONG_NOTICE})))
        page.get_by_label("kind of component to add").select_option("service")
        page.get_by_test_id("add-component").click()
        expect(notice).to_have_text(LONG_NOTICE)  # all of it, a scroll away
        covers_nothing()
        shot(page, f"24-long-notice-{width}")
        if width == 1280:
            notice.hover()
            page.wait_for_timeout(6500)  # past its 6 s
            expect(notice).to_have_text(LONG_NOTICE)
            page.mouse.move(5, 300)
            expect(notice).to_have_count(0, timeout=8000)


@pytest.mark.slow
def test_a_saved_designs_run_opens_under_its_design_in_chromium(server: str) -> None:
    """History → a run of a saved design opens under that design (its name, and Save adds a
    version to it rather than making a new design)."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        opened(page, "retry-backoff")
        page.get_by_label("design name").fill("rb-history")
        page.get_by_role("button", name=re.compile("^Save")).click()
        expect(page.locator(".notice")).to_contain_text("saved 'rb-history' as version 1")
        page.click("a[data-page=simulate]")
        page.get_by_test_id("run").click()
        expect(page.get_by_test_id("run-status")).to_have_text("done", timeout=60_000)
        page.click("a[data-page=history]")
        run = page.locator(".list").nth(1).locator("tbody tr").first
        run.get_by_role("button", name="open").click()
        expect(page.get_by_test_id("run-status")).to_have_text("done")
        expect(page.locator("header .design-name")).to_have_text("rb-history")
        page.click("a[data-page=design]")
        expect(page.get_by_label("design name")).to_have_value("rb-history")
        page.get_by_test_id("add-component").click()
        page.get_by_role("button", name=re.compile("^Save")).click()
        expect(page.locator(".notice")).to_contain_text("saved 'rb-history' as version 2")
        names = [d["name"] for d in page.request.get(server + "api/designs").json()]
        assert names.count("rb-history") == 1 and "retry-backoff" not in names


@pytest.mark.slow
def test_the_decision_help_is_where_the_catalog_points_in_chromium(server: str) -> None:
    """With no pattern picked, the catalog's right pane says to answer the decision help's
    questions and shows it there, in the window at 1440x900 and 1024x768 (not under the
    list, thousands of pixels down after "show all"); its answers stay while a pattern it
    recommends is read, and *Decision help* brings them back."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        page.get_by_role("button", name="Pattern catalog…").click()
        page.get_by_role("button", name=re.compile(r"^show all")).click()
        entry = page.locator(".drawer-entry")
        expect(entry).to_contain_text("answer the questions of the decision help")
        decide = entry.get_by_label("decision")
        for width, height in ((1440, 900), (1024, 768)):
            page.set_viewport_size({"width": width, "height": height})
            expect(decide).to_be_in_viewport()
        page.set_viewport_size({"width": 1440, "height": 900})
        decide.select_option(index=1)
        advisor = entry.locator(".advisor")
        recommended = advisor.locator("li button.link")
        for _ in range(10):  # answer the first choice until the help recommends
            advisor.locator(".chip").or_(recommended).first.wait_for()
            if recommended.count():
                break
            advisor.locator(".chip").first.click()
        answers = advisor.locator("p.hint").all_inner_texts()
        assert answers, "no question was answered"
        shot(page, "19-decision-help")
        name = recommended.first.inner_text()
        recommended.first.click()
        expect(entry.locator("h3")).to_be_visible()
        expect(advisor).to_have_count(0)
        page.get_by_test_id("decision-help").click()
        expect(decide).to_be_in_viewport()
        expect(advisor.locator("p.hint")).to_have_text(answers)
        expect(recommended.first).to_have_text(name)


@pytest.mark.slow
def test_gallery_filters_that_match_nothing_in_chromium(server: str) -> None:
    """A category and a pattern no template shares: the page says so and clears them."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        expect(page.locator(".template-card")).to_have_count(len(template_ids()))
        page.get_by_label("category").select_option("batch-processing")
        page.get_by_label("pattern").select_option("auto-scaling")
        expect(page.locator(".template-card")).to_have_count(0)
        empty = page.get_by_test_id("no-match")
        expect(empty).to_contain_text("No template matches these filters")
        shot(page, "17-gallery-no-match")
        empty.get_by_role("button", name="Clear the filters").click()
        expect(page.locator(".template-card")).to_have_count(len(template_ids()))


@pytest.mark.slow
def test_delete_key_and_generate_settings_in_chromium(server: str) -> None:
    """Delete on the canvas removes the selected node (Undo brings it back), but not while
    typing in a field; Generate keeps its targets and preview while the app is open."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        opened(page, "circuit-breaker")
        payments = page.locator(".react-flow__node[data-id=payments]")
        payments.click()
        page.locator("#f-components-payments-replicas").press("Delete")  # typing: not a delete
        expect(payments).to_be_visible()
        payments.click()
        page.keyboard.press("Delete")
        expect(payments).to_have_count(0)
        expect(page.locator(".notice")).to_contain_text("deleted 'payments'")
        assert "payments:" not in editor_text(page)
        shot(page, "19-delete-key")
        page.click("a[data-page=compare]")  # a notice stays with the page it was given on
        expect(page.locator(".notice")).to_have_count(0, timeout=1000)  # not its 6 s timer
        page.click("a[data-page=design]")
        page.get_by_role("button", name=re.compile("Undo")).click()
        expect(payments).to_be_visible()

        page.click("a[data-page=generate]")
        istio = page.locator(".generate .toolbar label", has_text="istio").locator("input")
        istio.check()
        page.get_by_test_id("preview").click()
        expect(page.locator(".file-list li")).not_to_have_count(0)
        files = page.locator(".file-list li").count()
        page.click("a[data-page=design]")
        page.click("a[data-page=generate]")
        expect(istio).to_be_checked()
        expect(page.locator(".file-list li")).to_have_count(files)
        shot(page, "20-generate-kept")
        # After an edit the old preview is not shown as the design's.
        page.click("a[data-page=design]")
        page.get_by_test_id("add-component").click()
        page.click("a[data-page=generate]")
        expect(istio).to_be_checked()
        expect(page.locator(".file-list li")).to_have_count(0)
        expect(page.get_by_test_id("preview-stale")).to_be_visible()


@pytest.mark.slow
def test_a_save_over_anothers_and_a_run_over_the_budget_ask_first_in_chromium(
        server: str) -> None:
    """Save from version 1 after another save made version 2: the page says so and asks
    (accepted: the edit becomes version 3, the other save stays version 2). A reload opens
    the design again; saved after another tab deleted it, it asks and becomes a new design
    with the edits. A run over the budget and past the studio's wall-clock limit: the page
    shows the server's estimate with both reasons and asks whether to run it anyway
    (declined: nothing runs, and the refusal stays on the page; accepted: it runs, forced)."""
    expect = pytest.importorskip("playwright.sync_api").expect
    asked: list[str] = []
    with gallery(server) as page:
        opened(page, "timeout")
        page.get_by_label("design name").fill("saved-twice")
        page.get_by_role("button", name=re.compile("^Save")).click()
        expect(page.locator(".notice")).to_contain_text("saved 'saved-twice' as version 1")
        design = next(d for d in page.request.get(server + "api/designs").json()
                      if d["name"] == "saved-twice")
        route = server + f"api/designs/{design['id']}"
        spec = page.request.get(route).json()["spec"]
        other = page.request.put(route, data={"spec": spec + "# another tab's edit\n"})
        assert other.json()["version"] == 2

        def answer(accept: bool) -> Any:
            def handle(dialog: Any) -> None:
                asked.append(dialog.message)
                dialog.accept() if accept else dialog.dismiss()
            return handle

        page.get_by_test_id("add-component").click()
        page.once("dialog", answer(True))
        page.get_by_role("button", name=re.compile("^Save")).click()
        expect(page.locator(".notice")).to_contain_text("saved 'saved-twice' as version 3")
        assert asked[-1].startswith("design 'saved-twice' was changed by another save: it is "
                                    "at version 2, and this save started from version 1.")
        versions = page.request.get(route).json()["versions"]
        assert [v["number"] for v in versions] == [1, 2, 3]
        page.reload()  # the address names the design: it opens again
        expect(page.get_by_label("design name")).to_have_value("saved-twice")
        expect(page).to_have_url(re.compile(rf"#/design/{design['id']}$"))
        assert page.request.delete(route).status == 204  # another tab deletes it
        page.get_by_test_id("add-component").click()
        page.once("dialog", answer(True))
        page.get_by_role("button", name=re.compile("^Save")).click()
        expect(page.locator(".notice")).to_have_text("saved 'saved-twice' as a new design")
        assert asked[-1].startswith("'saved-twice' is no longer stored: it was deleted")
        assert page.get_by_role("button", name=re.compile("^Save")).inner_text() == "Save"

        head, _, _ = spec.partition("simulation:")
        longer = page.request.post(server + "api/designs", data={
            "name": "too-long", "spec": head + "simulation:\n  duration: 200000s\n  interval: "
                                               "100s\n  limits: {max_events: 5000000000}\n"
                    }).json()  # over the budget's 10 minutes, within the engine's limits
        page.click("a[data-page=history]")
        page.locator(".list").first.locator("tr", has_text="too-long").get_by_role(
            "button", name="open").click()
        expect(page.get_by_label("design name")).to_have_value("too-long")
        page.click("a[data-page=simulate]")
        canvas = page.locator(".canvas-pane.tall")
        expect(canvas).to_be_visible()
        before = canvas.bounding_box()
        page.once("dialog", answer(False))
        page.get_by_test_id("run").click()
        # declined: the estimate and its advice stay on the page, past a notice's 6 s,
        # until the next run or an edit (not a red notice that goes)
        refusal = page.get_by_test_id("refusal")
        expect(refusal).to_contain_text("refused: this run is estimated at")
        expect(refusal).to_contain_text("Or run it anyway (Run simulation asks first).")
        expect(page.locator(".notice")).to_have_count(0)
        page.wait_for_timeout(6500)
        expect(refusal).to_be_visible()
        shot(page, "31-refused")
        # over the canvas's top, which stays where it was (it went 70 px down, its bottom
        # past the window's), not pushing it
        assert canvas.bounding_box() == before
        assert before and before["y"] + before["height"] <= 900
        box = refusal.bounding_box()
        assert box and before["y"] <= box["y"] and box["y"] + box["height"] <= \
            before["y"] + before["height"] / 2
        assert asked[-1].startswith("refused: this run is estimated at")
        assert "over the 10 min budget" in asked[-1]  # and, past it, the studio's own limit
        assert "For the studio's wall-clock limit: shorten simulation.duration to " in asked[-1]
        assert asked[-1].endswith(" Or run it anyway.\n\nRun it anyway?")  # not the API's
        assert '"force"' not in asked[-1]
        runs = page.request.get(server + f"api/runs?design_id={longer['id']}").json()
        assert runs == []
        page.once("dialog", answer(True))
        page.get_by_test_id("run").click()
        expect(page.get_by_test_id("run-status")).to_have_text(re.compile("queued|running"))
        expect(refusal).to_have_count(0)  # the next run takes it away
        [run] = page.request.get(server + f"api/runs?design_id={longer['id']}").json()
        page.get_by_test_id("cancel").click()
        expect(page.get_by_test_id("run-status")).to_have_text("cancelled")
        assert len(asked) == 4
        assert page.request.get(server + f"api/runs/{run['id']}").json()["status"] == \
            "cancelled"


@pytest.mark.slow
def test_the_canvas_takes_the_yaml_editors_width_in_chromium(server: str) -> None:
    """Hiding the YAML editor gives its width to the canvas, which fits the system at a
    larger zoom (e-commerce: top to bottom, its calls' labels clear of one another); the
    choice outlasts a reload."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        opened(page, "e-commerce")
        canvas = page.get_by_test_id("canvas")
        expect(canvas).to_have_attribute("data-direction", "TB")
        narrow = zoom(page)
        width = canvas.bounding_box()["width"]
        page.get_by_test_id("toggle-yaml").click()
        expect(page.locator(".editor-pane")).to_have_count(0)
        expect(page.get_by_test_id("toggle-yaml")).to_have_text("Show YAML")
        assert canvas.bounding_box()["width"] > width + 300
        page.wait_for_timeout(600)  # the fit's 200 ms animation
        assert zoom(page) > 1.5 * narrow
        labels = [page.locator(".edge-label").nth(i).bounding_box()
                  for i in range(page.locator(".edge-label").count())]
        assert not any(overlap(a, b) for i, a in enumerate(labels) for b in labels[i + 1:])
        shot(page, "23-canvas-without-yaml")
        page.goto(server)  # a new page load: the design is gone, the choice stays
        opened(page, "e-commerce")
        expect(page.get_by_test_id("canvas")).to_be_visible()
        expect(page.locator(".editor-pane")).to_have_count(0)
        page.get_by_test_id("toggle-yaml").click()
        expect(page.locator(".cm-content")).to_contain_text("e-commerce")


@pytest.mark.slow
def test_labels_of_calls_between_two_nodes_stand_apart_in_chromium(server: str) -> None:
    """banking-transfer's execute → debit, refund and settle join the same two nodes: their
    labels, of two and three lines, stand one under another without overlapping."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
        opened(page, "banking-transfer")
        stacked = [page.locator(".edge-label", has_text=f"execute → {callee}")
                   for callee in ("debit", "refund", "settle")]
        for label in stacked:
            expect(label).to_be_visible()
        page.wait_for_timeout(600)  # the fit's 200 ms animation
        boxes = [label.bounding_box() for label in stacked]
        assert not any(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), boxes


def zoom(page: Any) -> float:
    """The canvas's zoom, from its viewport's transform."""
    style = page.locator(".react-flow__viewport").get_attribute("style")
    found = re.search(r"scale\(([0-9.]+)\)", style or "")
    assert found, style
    return float(found.group(1))
