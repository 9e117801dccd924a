"""The documentation site as a reader sees it: served on 127.0.0.1, opened in headless Chromium.

Playwright for Python drives Debian's ``chromium`` (found on the PATH, launched through
``executable_path``; no browser is ever downloaded). The site is the one
``STATEMACHINES_SITE`` names (``scripts/test`` builds it first), else one built here
without the notebooks. Screenshots are saved under ``build/screenshots/`` for a person
to look at. Without Chromium or Playwright the tests skip on a developer's machine and
fail in CI (``CI=true``), so CI never passes without having looked.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path("build") / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing in CI: run scripts/setup (it installs it)")
    pytest.skip(f"{what} is not installed (scripts/setup installs it when run as root)")


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("STATEMACHINES_SITE")
    if given:
        folder = Path(given)
        assert (folder / "index.html").is_file(), f"{folder} holds no built site"
        return folder
    if shutil.which("chromium") is None:
        _missing("Debian's chromium")
    from statemachines.publish import site  # noqa: PLC0415  (needs the docs extra)

    folder = tmp_path_factory.mktemp("site")
    assert site.build(Path(), notebooks=False, site_dir=folder) == 0
    return folder


@pytest.fixture(scope="module")
def base_url(site_dir: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        _missing("Debian's chromium")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        _missing("the playwright package (the docs extra)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    try:
        yield page
    finally:
        page.close()


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_the_milestone_page_shows_its_diagram(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/machines/milestone/")

    diagram = page.locator("div.diagram svg").first
    diagram.wait_for(state="visible")
    box = diagram.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 300
    assert page.locator("div.diagram svg g.node").count() >= 7
    diagram.scroll_into_view_if_needed()
    _shot(page, "milestone")
    assert page.errors == []


def test_clicking_a_rule_on_an_edge_lands_on_that_rule(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/machines/milestone/")

    link = page.locator('div.diagram svg a[*|href$="rules/#ms-1"]').first
    link.click()

    page.wait_for_url("**/rules/#ms-1")
    heading = page.locator("h3#ms-1")
    heading.wait_for(state="visible")
    assert page.evaluate("() => document.getElementById('ms-1').getBoundingClientRect().top") < 300
    _shot(page, "rule-ms-1")
    assert page.errors == []


def test_a_scenario_page_highlights_the_path_it_took(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/scenarios/milestone-release/")

    diagram = page.locator("div.diagram svg").first
    diagram.wait_for(state="visible")
    taken = page.locator("div.diagram svg g.edge.taken")
    assert taken.count() >= 2
    assert page.locator("div.diagram svg g.node.current").count() >= 1
    stroke = taken.first.locator("path").first.get_attribute("stroke")
    assert stroke == "#1f5fa8"
    assert "The story" in page.content()
    diagram.scroll_into_view_if_needed()
    _shot(page, "scenario-milestone-release")
    assert page.errors == []


def test_no_page_logs_a_console_error(page: Any, base_url: str, site_dir: Path) -> None:
    pages = sorted(p.parent.relative_to(site_dir) for p in site_dir.rglob("index.html"))
    assert len(pages) >= 10

    for path in pages:
        page.goto(f"{base_url}/{path.as_posix()}/".replace("/./", "/"))
        page.wait_for_load_state("load")
        assert page.errors == [], f"{path}: {page.errors}"
    page.goto(f"{base_url}/")
    _shot(page, "overview")
