"""The interviewer kit in a real browser: the app served over HTTP on loopback (werkzeug's
make_server in a thread), opened in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download) with an API key, screenshotted, its five questions visible, no
element wider than its box, and no request besides the kit itself.

Skipped when Chromium or Playwright is missing, except under CI (.ci/run installs Chromium with
bin/system-packages --browser), where that fails. KIT_SCREENSHOT=path also saves the first screen
of the kit there (docs/images/interview-kit.png was made so:
``KIT_SCREENSHOT=docs/images/interview-kit.png bin/test tests/test_kit_browser.py``).
"""

import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.helpers import workflow_body

CHROMIUM = "/usr/bin/chromium"

# Every element of the kit whose content is wider than its box (scrollWidth > clientWidth), as
# "tag.class: scroll > client"; and the page itself when it scrolls sideways.
OVERFLOWS = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) found.push(`page: ${root.scrollWidth} > ${root.clientWidth}`);
  for (const el of document.querySelectorAll('main, main *')) {
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      found.push(`${el.tagName.toLowerCase()}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
  }
  return found;
}"""


def _playwright():
    """Playwright's sync API, or None when the package or Chromium is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return sync_playwright if os.path.exists(CHROMIUM) else None


@pytest.fixture
def sync_playwright():
    found = _playwright()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: Playwright or {CHROMIUM} is missing (bin/system-packages --browser)",
                        pytrace=False)
        pytest.skip(f"Playwright or {CHROMIUM} is missing (bin/system-packages --browser)")
    return found


@pytest.fixture
def live_app(app_factory):
    """The app (sandbox Claude) served on a free loopback port; yields (app, base URL)."""
    app = app_factory(LLM_PROVIDER="sandbox")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_kit_renders_in_chromium_with_its_five_questions_and_nothing_overflowing(
    live_app, make_key, sync_playwright, tmp_path
):
    app, base = live_app
    headers = make_key("viewer")  # the least role that reads
    writer = make_key("recruiter")
    client = app.test_client()
    created = client.post("/api/interview/workflow/full", json=workflow_body("REQ-BROWSER"), headers=writer)
    assert created.status_code == 200, created.get_json()
    interview = created.get_json()["interview"]
    url = f"{base}/api/interview/{interview['id']}/kit"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = browser.new_context(extra_http_headers=headers, viewport={"width": 900, "height": 1300})
            page = context.new_page()
            requested = []
            page.on("request", lambda request: requested.append(request.url))
            response = page.goto(url)
            assert response.status == 200 and response.headers["content-type"].startswith("text/html")

            if os.environ.get("KIT_SCREENSHOT"):
                page.screenshot(path=os.environ["KIT_SCREENSHOT"])
            shot = tmp_path / "kit.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000

            texts = page.locator("section.question .question-text")
            assert texts.count() == 5
            for index, question in enumerate(interview["questions"]):
                assert texts.nth(index).is_visible()
                assert " ".join(texts.nth(index).inner_text().split()) == " ".join(question["question_text"].split())
            assert page.locator(".watermark").is_visible()  # a draft
            assert page.evaluate(OVERFLOWS) == []
            page.emulate_media(media="print")
            assert page.evaluate(OVERFLOWS) == []

            # A name with no break opportunity still wraps inside its box.
            client.patch(f"/api/interview/{interview['id']}", json={"interview_name": "Payments" + "x" * 150}, headers=writer)
            page.emulate_media(media="screen")
            page.reload()
            assert page.evaluate(OVERFLOWS) == []
            assert requested == [url, url]  # the kit loaded nothing else (twice: goto and reload)
        finally:
            browser.close()

