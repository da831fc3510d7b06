"""A province's portal with a few institutions and their fees, published through its own registry API."""
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright
from typer.testing import CliRunner

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


@dataclass(frozen=True)
class Certified:
    """A cremated case with its certificate, as staff read them: what the print page is given."""
    case: dict
    certificate: dict  # GET /api/v1/certificates/{id}: number, check code, institution, signed QR text
    registrar: dict[str, str]


def certify(client, headers_for: Callable[..., dict[str, str]], *, prefix: str = "",
            name: str = "张三丰") -> Certified:
    """Through the registry API: a funeral home, a case of `name` declared, registered and cremated there, and its
    certificate issued. `headers_for(role, institution_id=None)` gives a token's Authorization header."""
    from datetime import UTC, datetime

    from factories import case_payload

    def ok(response, *codes):
        assert response.status_code in (codes or (200, 201)), response.text
        return response.json()

    api = f"{prefix}/api/v1"
    home = ok(client.post(f"{api}/institutions", headers=headers_for("provincial-admin"),
                          json=institution_payload(name="示范火化殡仪馆", type="funeral_home")))
    registrar = headers_for("registrar", institution_id=home["id"])
    case = ok(client.post(f"{api}/cases", headers=registrar, json=case_payload(home["id"], deceased_name=name)))
    ok(client.post(f"{api}/cases/{case['id']}/register", headers=headers_for("reviewer")))
    started = datetime.now(UTC) - timedelta(hours=3)
    ok(client.post(f"{api}/cases/{case['id']}/cremation", headers=registrar, json={
        "institution_id": home["id"], "started_at": started.isoformat(),
        "ended_at": (started + timedelta(hours=1)).isoformat(), "furnace_no": "F-01", "operator_name": "李师傅"}))
    issued = ok(client.post(f"{api}/cases/{case['id']}/certificates", headers=registrar))
    certificate = ok(client.get(f"{api}/certificates/{issued['id']}", headers=registrar))
    case = ok(client.get(f"{api}/cases/{case['id']}", headers=registrar))
    return Certified(case=case, certificate=certificate, registrar=registrar)


@pytest.fixture(scope="session")
def certifier() -> Callable[..., Certified]:
    """`certifier(client, headers_for, prefix="/beijing")`: a certified case through any HTTP client."""
    return certify


@pytest.fixture
def certified(site, site_client) -> Certified:
    def headers_for(role: str, institution_id: str | None = None) -> dict[str, str]:
        import uuid

        token = site.state.ctx.issuer.mint(f"{role}-1", [role],
                                           institution_id=uuid.UUID(institution_id) if institution_id else None)
        return {"Authorization": f"Bearer {token}"}

    return certify(site_client, headers_for)


# the browser tests: `fsp up beijing` and `fsp serve`'s app on loopback, driven by Debian's chromium; their
# helpers are imported where used, so scripts/portal-screenshots can load this file for its sample data alone


@dataclass(frozen=True)
class Served:
    url: str
    home: object  # the $FSP_HOME the tenant was provisioned in

    def headers_for(self, role: str, institution_id: str | None = None) -> dict[str, str]:
        """The Authorization header of `fsp token beijing --role <role>` (bound to an institution if given)."""
        from provisioning_cli.main import app as fsp_app

        args = ["token", "beijing", "--role", role, "--home", str(self.home)]
        if institution_id:
            args += ["--institution", institution_id]
        result = CliRunner().invoke(fsp_app, args)
        assert result.exit_code == 0, result.output
        return {"Authorization": f"Bearer {result.stdout.strip()}"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from browsing import chromium_path

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """`fsp up beijing`, then `fsp serve`'s app on loopback with three institutions published by the admin."""
    import httpx

    from provisioning_cli.main import app as fsp_app
    from served import serving_locally

    home = tmp_path_factory.mktemp("fsp-home")
    result = CliRunner().invoke(fsp_app, ["up", "beijing", "--home", str(home)])
    assert result.exit_code == 0, result.output
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        site = Served(url, home)
        publish(client, site.headers_for("provincial-admin"), prefix="/beijing")
        yield site


@pytest.fixture(scope="module")
def base_url(served) -> str:
    return served.url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    from browsing import WIDTHS

    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
