"""The Dagster UI on the demo root, in a real (headless) Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from vsc_assets_tests.support import free_port

pytestmark = pytest.mark.browser

SPEC_ASSETS = (
    "train_v1_s27_all",
    "train_v1_s3_all",
    "train_v1_s27_all_bw",
    "train_v1_s3_all_bw",
    "query_frames",
    "reference_frames",
    "training_images_ref1",
    "train_v1_s3_r1_all",
    "positive_pairs",
)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
REPO = Path(__file__).resolve().parents[1]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("Chromium is not installed on this machine (.ci/run installs Debian's chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[tests]')")
    return path


@pytest.fixture(scope="module")
def webserver(demo_root):
    chromium = _chromium()
    root, *_ = demo_root
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(root / ".dagster"), "VSC_ROOT": str(root)}
    exe = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(exe), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("dagster-webserver did not come up")
        yield url, chromium
    finally:
        proc.terminate()
        proc.wait(timeout=30)


WAIT_MS = 90_000  # a busy 2-core machine renders the graph slowly; every check waits this long at most


def _page(browser, url: str):
    page = browser.new_page(viewport={"width": 1800, "height": 1100})
    page.goto(url, wait_until="domcontentloaded", timeout=WAIT_MS)
    return page


def test_asset_graph_partitions_and_preview(webserver, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, chromium = webserver
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            groups = {"disc21": SPEC_ASSETS[:4], "vsc": SPEC_ASSETS[4:]}
            for group, names in groups.items():
                page = _page(browser, f"{url}/locations/vsc_assets.definitions/asset-groups/{group}")
                for name in names:  # each node waited for, not counted at once
                    expect(page.get_by_text(name, exact=True).first).to_be_visible(timeout=WAIT_MS)
                # The shipped instance turns the first-visit prompts off (nux: enabled: false).
                expect(page.get_by_role("dialog")).to_have_count(0)
                page.screenshot(path=str(tmp_path / f"asset_graph_{group}.png"))

            page = _page(browser, f"{url}/assets/train_v1_s27_all?view=partitions")
            expect(page.get_by_text("Materialized (2)")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text("Missing (0)")).to_be_visible(timeout=WAIT_MS)

            page = _page(browser, f"{url}/assets/train_v1_s27_all?view=events")
            preview_row = page.locator("tr", has=page.get_by_text("preview", exact=True))
            expect(preview_row.first).to_be_visible(timeout=WAIT_MS)
            preview_row.first.get_by_text("[Show Markdown]").click()
            image = page.locator('img[src^="data:image/jpeg;base64"]').first
            expect(image).to_be_visible(timeout=WAIT_MS)
            # The event's small sheet: 10 tiles of 96 px, 5 a row, each with its families as a caption beneath.
            width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
            assert width == 5 * 96 and height > 2 * 96
            page.screenshot(path=str(tmp_path / "preview.png"))
            page.get_by_role("button", name="Close").click()
            # ... and the path of the full sheet, which stays a file.
            sheet_row = page.locator("tr", has=page.get_by_text("preview_file", exact=True)).first
            expect(sheet_row.get_by_text("previews/train_v1_s27_all/")).to_be_visible(timeout=WAIT_MS)

            # The family counts are a table in the event's metadata, shown as one, not raw JSON.
            counts_row = page.locator("tr", has=page.get_by_text("family_counts", exact=True)).first
            expect(counts_row).to_be_visible(timeout=WAIT_MS)
            counts_row.scroll_into_view_if_needed()
            for text in ("family", "files", "share", "overlay_onto_image", "meme_format"):
                expect(counts_row.get_by_text(text, exact=True).first).to_be_visible(timeout=WAIT_MS)
            page.screenshot(path=str(tmp_path / "family_counts.png"), full_page=True)
        finally:
            browser.close()
