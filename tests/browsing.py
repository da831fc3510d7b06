"""What the portal's browser tests share: Debian's chromium with CJK fonts, where screenshots go, and the check
every page passes (axe-core finds no serious or critical violation, nothing wider than a phone's screen)."""
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

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


def keep_and_check(page: Page, name: str, width: int) -> None:
    """Screenshot the page as `<name>.png`; fail on serious or critical axe violations or sideways scrolling."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
    # nothing wider than the screen: a phone never scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} at {width}px"


def assert_accessible_and_fits(page: Page, name: str, device: str) -> None:
    """keep_and_check at one of WIDTHS, named `<name>-<device>`."""
    keep_and_check(page, f"{name}-{device}", WIDTHS[device])


@contextmanager
def launched() -> Iterator[Browser]:
    """Debian's chromium, for a test module's own browser fixture."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        yield browser
        browser.close()


def check_at_each_width(page: Page, name: str) -> None:
    """The page as it is now, at each of WIDTHS: kept as `<name>-<device>.png` and checked; back to desktop after."""
    for device, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        keep_and_check(page, f"{name}-{device}", width)
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def expect_results(page: Page, names: list[str]) -> None:
    """The listed results read `names`, in order, once the page a search or filter led to has loaded (retrying:
    reading them at once after a click can see the old page or none)."""
    expect(page.locator(".result-name")).to_have_text(names)
