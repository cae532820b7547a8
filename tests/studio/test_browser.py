"""The studio in a real browser (headless Chromium, Playwright) against a real server on
localhost: the flow the issue names, a bad edit shown on its line and its node, and a
screenshot of every page (saved under test-artifacts/studio/, gitignored)."""

from __future__ import annotations

import io
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
        page.get_by_label("search patterns").fill("circuit braker")
        page.get_by_role("button", name="Circuit Breaker", exact=True).click()
        expect(page.locator(".drawer-entry h3")).to_have_text("Circuit Breaker")
        expect(page.locator(".relation-graph")).to_be_visible()
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
        expect(page.get_by_test_id("breaker-summary")).to_contain_text("opened at")
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
            f"line {number} components.checkout.replicas")
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
def replayed(server: str, template: str) -> Iterator[Any]:
    """A page with `template` opened in the designer and simulated, on the Simulate page."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with gallery(server) as page:
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
    retries among them (10 % of attempts fail and are retried), from the calls series, not
    a run average; the charts include the retries."""
    expect = pytest.importorskip("playwright.sync_api").expect
    with replayed(server, "retry-backoff") as page:
        edge = page.locator(".replay-canvas .edge-label", has_text="get")
        page.get_by_test_id("replay-slider").fill("15")
        expect(edge).to_contain_text(re.compile(r"\d+/s retries"))
        expect(edge).not_to_contain_text("avg")
        expect(page.locator(".chart figcaption", has_text="Retries")).to_be_visible()
        shot(page, "12-call-traffic-replay")


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
        # The diagnosis: the failed jobs, caused by the crash; its fix applies to the design.
        finding = page.get_by_test_id("finding").first
        expect(finding).to_contain_text("requests failed")
        expect(finding).to_contain_text("--set faults=[]")
        expect(page.get_by_test_id("stale")).to_have_count(0)
        # A fix that only takes the scenario's fault away says so, rather than "Apply".
        expect(finding.get_by_test_id("apply-fix")).to_have_text("Remove the fault")
        finding.get_by_test_id("apply-fix").click()
        expect(page.locator(".notice")).to_contain_text("applied faults=[]")
        # The results on screen are now the old design's, and the page says so.
        expect(page.get_by_test_id("stale")).to_contain_text(
            "the design has changed since this run")
        page.click("a[data-page=design]")
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        assert "crash: true" not in editor_text(page)
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
        assert "crash: true" not in editor_text(page) and "leader_election" in editor_text(page)


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
        expect(form).to_contain_text("rps=abc: input should be a valid number")
        form.locator("input[data-param=rps]").fill("150")
        form.locator("label", has_text="with_breaker").locator("input").uncheck()
        form.get_by_test_id("open-with-values").click()
        expect(page.get_by_test_id("status")).to_have_text(re.compile(r"^valid"))
        text = editor_text(page)
        assert "with_breaker=false, rps=150" in text and "circuit_breaker" not in text
        shot(page, "12-parameters")
