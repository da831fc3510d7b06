"""Reservations in the workbench: a registrar publishes a farewell hall, edits and closes it, and confirms or
cancels the day's bookings; refusals in place, nothing written; another institution's staff cannot act."""
from factories import booking_payload, slot_start
from staff_signing import csrf_of

HALL = {"name": "思源厅", "kind": "farewell_hall", "capacity": "2", "slot_minutes": "60", "opens_at": "08:00",
        "closes_at": "17:00", "weekdays": "1234567", "advance_days": "30", "service_item_id": "",
        "free_by_policy": "false"}


def _post(client, path: str, data: dict, *, page: str):
    return client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data}, follow_redirects=False)


def _citizen(site, subject: str = "citizen-0001") -> dict:
    return {"Authorization": f"Bearer {site.state.ctx.issuer.mint(subject, ['citizen'])}"}


def _hall(site_client, institution_id) -> dict:
    return site_client.get(f"/api/v1/institutions/{institution_id}/resources").json()["data"][0]


def test_a_registrar_publishes_edits_and_closes_a_farewell_hall(site_client, staff_client, institution_id):
    registrar = staff_client("registrar", institution_id)

    made = _post(registrar, "/workbench/resources/new", HALL, page="/workbench/resources/new")

    assert made.status_code == 303 and made.headers["location"].endswith("done=created")
    listed = registrar.get(made.headers["location"]).text
    assert "思源厅" in listed and "告别厅" in listed and "已新增预约项目" in listed
    hall = _hall(site_client, institution_id)
    edit = f"/workbench/resources/{hall['id']}/edit"
    assert 'value="08:00"' in registrar.get(edit).text
    closed = _post(registrar, edit, {**HALL, "capacity": "3", "status": "closed"}, page=edit)
    assert closed.status_code == 303
    assert "已停用" in registrar.get("/workbench/resources").text
    assert site_client.get(f"/api/v1/institutions/{institution_id}/resources").json()["count"] == 0


def test_bad_resource_input_is_refused_in_place_and_nothing_is_written(site_client, staff_client, institution_id):
    registrar = staff_client("registrar", institution_id)

    answer = _post(registrar, "/workbench/resources/new", {**HALL, "capacity": "很多", "weekdays": "89",
                                                           "closes_at": "07:00"}, page="/workbench/resources/new")

    assert answer.status_code == 400
    assert 'id="capacity-error"' in answer.text and "每时段名额应为整数" in answer.text
    assert "很多" in answer.text  # what was typed, kept
    assert site_client.get(f"/api/v1/institutions/{institution_id}/resources").json()["count"] == 0


def test_the_day_of_bookings_is_confirmed_and_cancelled_with_names_masked(site, site_client, staff_client,
                                                                          institution_id):
    registrar = staff_client("registrar", institution_id)
    _post(registrar, "/workbench/resources/new", HALL, page="/workbench/resources/new")
    hall = _hall(site_client, institution_id)
    first, second = (site_client.post("/api/v1/my/bookings", json=booking_payload(hall["id"]),
                                      headers=_citizen(site)).json() for _ in range(2))
    day = f"/workbench/bookings?on={slot_start()[:10]}"

    page = registrar.get(day).text
    confirmed = _post(registrar, f"/workbench/bookings/{first['id']}/confirm", {"on": slot_start()[:10]}, page=day)
    cancelled = _post(registrar, f"/workbench/bookings/{second['id']}/cancel",
                      {"on": slot_start()[:10], "reason": "告别厅检修"}, page=day)
    again = _post(registrar, f"/workbench/bookings/{second['id']}/cancel", {"on": slot_start()[:10]}, page=day)

    assert "张**" in page and "138****5678" in page and "张三丰" not in page and "待确认" in page
    assert confirmed.status_code == 303 and "已确认预约" in registrar.get(confirmed.headers["location"]).text
    assert cancelled.status_code == 303
    shown = registrar.get(day).text
    assert "已确认" in shown and "已取消" in shown
    assert again.status_code == 409 and "该预约已取消或已超时失效" in again.text


def test_staff_of_another_institution_and_roles_without_the_permission_cannot_act(site, site_client, staff_client,
                                                                                  admin, institution_id):
    from factories import institution_payload
    registrar = staff_client("registrar", institution_id)
    _post(registrar, "/workbench/resources/new", HALL, page="/workbench/resources/new")
    booking = site_client.post("/api/v1/my/bookings", json=booking_payload(_hall(site_client, institution_id)["id"]),
                               headers=_citizen(site)).json()
    other_id = site_client.post("/api/v1/institutions", json=institution_payload(), headers=admin).json()["id"]
    other = staff_client("registrar", other_id, username="registrar-2")

    refused = _post(other, f"/workbench/bookings/{booking['id']}/confirm", {"on": slot_start()[:10]},
                    page="/workbench/bookings")

    assert refused.status_code == 403 and "您的账号只能办理本机构的业务" in refused.text
    assert staff_client("reviewer").get("/workbench/bookings").status_code == 403
    assert "办理预约" in registrar.get("/workbench/").text


def test_a_provincial_admin_picks_the_institution(staff_client, institution_id):
    admin = staff_client("provincial-admin")

    page = admin.get("/workbench/resources").text
    chosen = admin.get(f"/workbench/resources?institution_id={institution_id}").text

    assert "八宝山殡仪馆" in page and "新增预约项目" not in page
    assert "新增预约项目" in chosen
