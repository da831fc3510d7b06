"""The remains page of a case (遗体与骨灰): what the registry holds, each form recorded through the registry's own API
or refused in place with nothing written, the hand-over of the ashes, and readers who may not record."""
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from factories import create_institution, declare_case
from portal.workbench.text import ASHES_DESTINATION
from registry.remains.models import AshesDestinationKind
from staff_signing import csrf_of

CHINA = timezone(timedelta(hours=8))


def _local(hours_ago: float) -> str:
    """A time as a datetime-local field sends it, in China."""
    return (datetime.now(CHINA) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def api(site):
    """`api(role, institution_id)` → headers of a registry token."""
    def headers(role: str, institution_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {site.state.ctx.issuer.mint(f'{role}-api', [role], institution_id=institution_id)}"}
    return headers


@pytest.fixture
def case_at(site_client, api, institution_id):
    """`case_at("declared" | "cremated")`: a case of the funeral home, brought that far through the API."""
    def make(status: str) -> dict:
        registrar = api("registrar", institution_id)
        case = declare_case(site_client, registrar, institution_id, deceased_name="王守仁")
        if status == "cremated":
            path = f"/api/v1/cases/{case['id']}"
            assert site_client.post(f"{path}/register", headers=api("reviewer")).status_code == 200
            started = datetime.now(UTC) - timedelta(hours=5)
            cremated = site_client.post(f"{path}/cremation", headers=registrar, json={
                "institution_id": institution_id, "started_at": started.isoformat(),
                "ended_at": (started + timedelta(hours=1)).isoformat(), "furnace_no": "F-01", "operator_name": "李师傅"})
            assert cremated.status_code == 201, cremated.text
        return case
    return make


@pytest.fixture
def columbarium(site_client, admin) -> dict:
    return create_institution(site_client, admin, type="columbarium", name="福寿园骨灰堂")


def _post(client, case_id: str, form: str, data: dict, page: str | None = None):
    """Post a form of the page as a browser would: with the page's CSRF token."""
    page = page or client.get(f"/workbench/cases/{case_id}/remains").text
    return client.post(f"/workbench/cases/{case_id}/remains/{form}", data={"csrf_token": csrf_of(page), **data},
                       follow_redirects=False)


def _listed(site_client, api, case_id: str, what: str) -> list[dict]:
    answer = site_client.get(f"/api/v1/cases/{case_id}/{what}", headers=api("reviewer"))
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def _done(client, answer, case_id: str, notice: str) -> str:
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"/workbench/cases/{case_id}/remains?done=")
    shown = client.get(answer.headers["location"])
    assert shown.status_code == 200 and notice in shown.text
    return shown.text


def test_every_ashes_destination_kind_has_a_chinese_name():
    assert set(ASHES_DESTINATION) == {kind.value for kind in AshesDestinationKind}


def test_a_registrar_sees_the_case_and_a_form_for_each_step(staff_client, institution_id, case_at):
    case = case_at("declared")
    page = staff_client("registrar", institution_id).get(f"/workbench/cases/{case['id']}/remains")
    assert page.status_code == 200
    assert "王守仁" in page.text and "已申报" in page.text
    assert f'href="/workbench/cases/{case["id"]}"' in page.text  # back to the case page
    for form in ("transports", "storages", "ashes-destination", "interments"):
        assert f'action="/workbench/cases/{case["id"]}/remains/{form}"' in page.text
    assert "海撒" in page.text and "骨灰堂" in page.text


def test_a_transport_is_recorded_in_china_time_or_refused_in_place(site_client, api, staff_client, institution_id,
                                                                   case_at):
    case = case_at("declared")
    client = staff_client("registrar", institution_id)
    typed = {"from_address": "朝阳医院", "to_address": "八宝山殡仪馆", "vehicle_plate": "京A12345",
             "departed_at": _local(3), "arrived_at": _local(4)}
    refused = _post(client, case["id"], "transports", typed)
    assert refused.status_code == 400
    assert 'id="arrived_at-error"' in refused.text and 'value="朝阳医院"' in refused.text
    assert f'value="{typed["arrived_at"]}"' in refused.text
    assert _listed(site_client, api, case["id"], "transports") == []

    answer = _post(client, case["id"], "transports", {**typed, "arrived_at": _local(2)})
    page = _done(client, answer, case["id"], "已登记遗体接运")
    assert "京A12345" in page
    [transport] = _listed(site_client, api, case["id"], "transports")
    assert transport["departed_at"] == typed["departed_at"] + ":00+08:00"


def test_a_storage_is_recorded_released_or_refused_in_place(site_client, api, staff_client, institution_id, case_at):
    case = case_at("declared")
    client = staff_client("registrar", institution_id)
    refused = _post(client, case["id"], "storages", {"cabinet_no": "A 01!", "stored_at": _local(5)})
    assert refused.status_code == 400 and 'id="cabinet_no-error"' in refused.text and 'value="A 01!"' in refused.text
    assert _listed(site_client, api, case["id"], "storages") == []

    page = _done(client, _post(client, case["id"], "storages", {"cabinet_no": "A-01", "stored_at": _local(5)}),
                 case["id"], "已登记遗体存放")
    assert "A-01" in page and "存放中" in page
    [storage] = _listed(site_client, api, case["id"], "storages")
    release = f"storages/{storage['id']}/release"
    assert f'action="/workbench/cases/{case["id"]}/remains/{release}"' in page

    too_early = _post(client, case["id"], release, {"released_at": _local(6)}, page)
    assert too_early.status_code == 400 and 'id="released_at-error"' in too_early.text
    assert _listed(site_client, api, case["id"], "storages")[0]["released_at"] is None

    page = _done(client, _post(client, case["id"], release, {"released_at": _local(1)}), case["id"], "已登记遗体出柜")
    assert "存放中" not in page
    assert _listed(site_client, api, case["id"], "storages")[0]["released_at"] == _local(1) + ":00+08:00"


def test_the_ashes_destination_hands_the_ashes_over_or_is_refused_in_place(site_client, api, staff_client,
                                                                           institution_id, case_at, columbarium):
    case = case_at("cremated")
    client = staff_client("registrar", institution_id)
    page = client.get(f"/workbench/cases/{case['id']}/remains").text
    assert f'<option value="{columbarium["id"]}">福寿园骨灰堂</option>' in page  # the receiving institutions
    typed = {"destination": "columbarium", "ashes_institution_id": columbarium["id"], "ashes_plot_or_niche": "",
             "ashes_note": "家属自行送达"}
    refused = _post(client, case["id"], "ashes-destination", typed, page)
    assert refused.status_code == 400 and 'id="ashes_plot_or_niche-error"' in refused.text
    assert "家属自行送达" in refused.text and re.search(r'<option value="columbarium" selected>', refused.text)
    assert site_client.get(f"/api/v1/cases/{case['id']}/ashes-destination", headers=api("reviewer")).status_code == 404

    answer = _post(client, case["id"], "ashes-destination", {**typed, "ashes_plot_or_niche": "思园B区3排21号"})
    page = _done(client, answer, case["id"], "已登记骨灰去向")
    assert "骨灰堂" in page and "思园B区3排21号" in page and "移交福寿园骨灰堂" in page
    handover = site_client.get(f"/api/v1/cases/{case['id']}/handover", headers=api("reviewer")).json()
    assert handover["to_institution_id"] == columbarium["id"]


def test_the_receiving_institution_records_the_interment_and_a_third_one_sees_nothing(
        site_client, api, admin, staff_client, institution_id, case_at, columbarium):
    case = case_at("cremated")
    recorded = site_client.post(f"/api/v1/cases/{case['id']}/ashes-destination", headers=api("registrar", institution_id),
                                json={"destination": "columbarium", "institution_id": columbarium["id"],
                                      "plot_or_niche": "思园B区3排21号"})
    assert recorded.status_code == 201, recorded.text
    receiver = staff_client("registrar", columbarium["id"], username="niche-keeper")
    page = receiver.get(f"/workbench/cases/{case['id']}/remains")
    assert page.status_code == 200 and "王守仁" in page.text
    assert f'action="/workbench/cases/{case["id"]}/remains/interments"' in page.text
    assert "/remains/transports" not in page.text and "/remains/storages" not in page.text  # not its work
    assert 'value="思园B区3排21号"' in page.text  # where the ashes went is offered

    typed = {"kind": "placement", "remains_form": "body", "interment_institution_id": columbarium["id"],
             "interment_plot_or_niche": "思园B区3排21号", "interred_at": _local(1)}
    refused = _post(receiver, case["id"], "interments", typed, page.text)
    assert refused.status_code == 400 and 'id="remains_form-error"' in refused.text
    assert _listed(site_client, api, case["id"], "interments") == []

    answer = _post(receiver, case["id"], "interments", {**typed, "remains_form": "ashes"})
    shown = _done(receiver, answer, case["id"], "已登记安葬（安放）")
    assert "安放（格位）" in shown and "福寿园骨灰堂" in shown
    [interment] = _listed(site_client, api, case["id"], "interments")
    assert interment["institution_id"] == columbarium["id"]

    stranger = create_institution(site_client, admin, type="columbarium")
    third = staff_client("registrar", stranger["id"], username="other-keeper").get(f"/workbench/cases/{case['id']}/remains")
    assert third.status_code == 404 and "王守仁" not in third.text


def test_a_reviewer_sees_the_page_without_forms_and_posting_anyway_is_refused_by_the_api(
        site_client, api, staff_client, institution_id, case_at):
    case = case_at("declared")
    client = staff_client("reviewer")
    page = client.get(f"/workbench/cases/{case['id']}/remains")
    assert page.status_code == 200 and "王守仁" in page.text
    assert "/remains/" not in page.text.replace(f'/workbench/cases/{case["id"]}/remains"', "")
    answer = _post(client, case["id"], "storages", {"cabinet_no": "A-01", "stored_at": _local(5)}, page.text)
    assert answer.status_code == 403 and "您的角色没有此项操作的权限" in answer.text
    assert _listed(site_client, api, case["id"], "storages") == []


def test_an_unknown_case_is_not_found(staff_client, institution_id):
    client = staff_client("registrar", institution_id)
    assert client.get("/workbench/cases/00000000-0000-4000-8000-000000000000/remains").status_code == 404
    assert client.get("/workbench/cases/not-a-case/remains").status_code == 404


def test_a_form_without_the_csrf_token_writes_nothing(site_client, api, staff_client, institution_id, case_at):
    case = case_at("declared")
    client = staff_client("registrar", institution_id)
    answer = client.post(f"/workbench/cases/{case['id']}/remains/storages",
                         data={"cabinet_no": "A-01", "stored_at": _local(5)}, follow_redirects=False)
    assert answer.status_code == 403 and _listed(site_client, api, case["id"], "storages") == []
