"""Pages in a real browser: headless Chromium from Debian driven by Playwright, each page scanned by axe-core and
kept as screenshots at desktop and phone width under build/screenshots/ (git-ignored) for people to look at.

Chromium and CJK fonts are Debian packages that `make test` installs: without them these tests fail, never skip.
"""
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 375}
INSTALL_HINT = "run `make test`, which installs them (scripts/apt-install chromium fonts-noto-cjk)"


def chromium_path() -> str:
    """Debian's chromium (Playwright's own browser download cannot reach its host here) with CJK fonts."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(f"Debian's chromium is not installed: {INSTALL_HINT}", pytrace=False)
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    if "Noto Sans CJK" not in fonts:
        pytest.fail(f"no Chinese font (fonts-noto-cjk) is installed, pages would show boxes: {INSTALL_HINT}",
                    pytrace=False)
    return path


@contextmanager
def launched() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        yield browser
        browser.close()


def assert_accessible_and_fits(page: Page, name: str, device: str) -> None:
    """The page as shown now: kept as a screenshot, no serious or critical axe finding, no sideways scrolling."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{device}.png", full_page=True)
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
    # nothing wider than the screen: a phone never scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} on a {device}"
