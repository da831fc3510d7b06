"""A province's portal with a few institutions and their fees, published through its own registry API."""
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright

from factories import institution_payload
from portal.pages import china_today

# the day the fees below are read: fees take effect by the date in China
TODAY = china_today()


@dataclass(frozen=True)
class Published:
    """What the seeded province published, by a name a test can ask for."""
    ids: dict[str, str]


def fee(name: str, price_fen: int, *, category: str = "basic", basis: str = "government_set", unit: str = "具",
        starts: date | None = None, ends: date | None = None, description: str | None = None) -> dict:
    return {"name": name, "category": category, "unit": unit, "price_fen": price_fen, "pricing_basis": basis,
            "effective_from": (starts or date(2024, 1, 1)).isoformat(),
            "effective_to": ends.isoformat() if ends else None, "description": description}


# what 八宝山殡仪馆 discloses beyond its entry and fees
DISCLOSURE = {"opening_hours": "每日 0:00-24:00（遗体接运）", "commitments": ["24小时接运遗体", "明码标价，不强制消费"],
              "supervising_authority": "北京市石景山区民政局", "complaint_phone": "010-68870000"}

# name → (payload overrides, fees); two districts of Beijing, three types
INSTITUTIONS: dict[str, tuple[dict, list[dict]]] = {
    "八宝山殡仪馆": ({"type": "funeral_home", "region_code": "110107", "address": "石景山区石景山路9号",
                   "contact_phone": "010-68800001", "licence_no": "京民殡许字第001号"}, [
        fee("遗体火化", 48000, description="普通火化炉"),
        fee("遗体接运", 30000, basis="government_guided", unit="次"),
        fee("骨灰盒", 128000, category="optional", basis="market", unit="个"),
        # not in force today: neither the next price nor the one that ended must show
        fee("遗体告别", 99900, category="optional", basis="market", unit="场", starts=TODAY + timedelta(days=30)),
        fee("遗体冷藏", 11100, unit="天", starts=date(2020, 1, 1), ends=TODAY - timedelta(days=1)),
    ]),
    "西山公益性公墓": ({"type": "public_cemetery", "region_code": "110108", "address": "海淀区香山路2号"}, [
        fee("骨灰安放", 60000, basis="government_guided", unit="穴"),
    ]),
    "长青骨灰堂": ({"type": "columbarium", "region_code": "110108", "address": "海淀区颐和园路5号",
                "contact_phone": None, "contact_name": None}, []),
}


def publish(client: TestClient, headers: dict[str, str], *, prefix: str = "") -> Published:
    """Publish INSTITUTIONS and their fees through the registry API (under `prefix`, e.g. `/beijing`)."""
    ids = {}
    for name, (overrides, fees) in INSTITUTIONS.items():
        made = client.post(f"{prefix}/api/v1/institutions", headers=headers,
                           json=institution_payload(name=name, **overrides))
        assert made.status_code == 201, made.text
        ids[name] = made.json()["id"]
        for item in fees:
            added = client.post(f"{prefix}/api/v1/institutions/{ids[name]}/service-items", headers=headers, json=item)
            assert added.status_code == 201, added.text
    disclosed = client.put(f"{prefix}/api/v1/institutions/{ids['八宝山殡仪馆']}/disclosure", headers=headers,
                           json=DISCLOSURE)
    assert disclosed.status_code == 200, disclosed.text
    return Published(ids)


@pytest.fixture(scope="session")
def publisher() -> Callable[..., Published]:
    """`publisher(client, headers, prefix="/beijing")`: publish INSTITUTIONS through any HTTP client."""
    return publish


@pytest.fixture
def site(settings):
    from portal.site import create_site

    site = create_site(settings, name="北京市")
    yield site
    site.state.ctx.engine.dispose()


@pytest.fixture
def admin(site) -> dict[str, str]:
    token = site.state.ctx.issuer.mint("admin-1", ["provincial-admin"])
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def site_client(site) -> Iterator[TestClient]:
    with TestClient(site) as client:
        yield client


@pytest.fixture
def published(site_client, admin) -> Published:
    return publish(site_client, admin)


@pytest.fixture
def add_institutions(site_client, admin) -> Callable[[int], None]:
    """`add_institutions(n)`: n more funeral homes, for paging."""
    def add(count: int) -> None:
        for n in range(count):
            made = site_client.post("/api/v1/institutions", headers=admin,
                                    json=institution_payload(name=f"示范殡仪服务站{n:02d}", type="service_station"))
            assert made.status_code == 201, made.text
    return add


# the browser tests' (test_browser*.py): Debian's Chromium driven by Playwright, axe-core and screenshots
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["phone"], "height": 800}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def scan_page(browser: Browser) -> Callable[[str, str], None]:
    """`scan_page(url, name)`: at desktop and phone width, a screenshot kept as build/screenshots/<name>-<width>.png,
    no serious or critical axe-core violation, and nothing wider than the screen."""
    def scan(url: str, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for device, width in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
            page = context.new_page()
            try:
                page.goto(url)
                page.screenshot(path=SCREENSHOTS / f"{name}-{device}.png", full_page=True)
                violations = [v for v in Axe().run(page).response["violations"]
                              if v["impact"] in ("serious", "critical")]
                assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
                # nothing wider than the screen: a phone never scrolls sideways
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} at {width}px"
            finally:
                context.close()
    return scan
