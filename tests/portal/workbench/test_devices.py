"""Equipment in the workbench: a registrar sees its devices' health, registers one (credential shown once) and
revokes one; refusals in place, nothing written; roles without the permission cannot come in."""
from factories import reading, register_device
from staff_signing import csrf_of

CREMATOR = {"kind": "cremator", "model": "YQ-2000型", "location": "一号火化间", "temperature_max_c": "1100",
            "cycle_max_minutes": "90", "emission_max_mg_m3": ""}


def _post(client, path: str, data: dict, *, page: str = "/workbench/devices"):
    return client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data}, follow_redirects=False)


def _devices(site_client, admin, institution_id) -> list[dict]:
    return site_client.get(f"/api/v1/institutions/{institution_id}/devices", headers=admin).json()["data"]


def test_a_registrar_registers_a_device_and_sees_its_credential_once(site_client, staff_client, admin, institution_id):
    registrar = staff_client("registrar", institution_id)

    made = _post(registrar, "/workbench/devices", CREMATOR)

    assert made.status_code == 200, made.text
    assert "设备已登记" in made.text and "fspd_" in made.text
    credential = made.text.split('value="fspd_', 1)[1].split('"', 1)[0]
    [device] = _devices(site_client, admin, institution_id)
    assert device["limits"]["cycle_max_minutes"] == 90
    listed = registrar.get("/workbench/devices").text
    assert "YQ-2000型" in listed and "从未上报" in listed and credential not in listed


def test_the_list_shows_each_devices_newest_values_and_when_it_last_reported(site_client, staff_client, admin,
                                                                            institution_id):
    device, headers = register_device(site_client, admin, institution_id)
    pushed = site_client.post(f"/api/v1/devices/{device['id']}/readings", headers=headers, json={"readings": [
        reading(1, "temperature_c", 861.5), reading(2, "running", 1), reading(3, "door_open", 0)]})
    assert pushed.status_code == 200, pushed.text

    page = staff_client("registrar", institution_id).get("/workbench/devices").text

    assert "861.5" in page and "运行中" in page and "关闭" in page and "从未上报" not in page


def test_a_revoked_device_shows_as_such_and_writes_nothing_more(site_client, staff_client, admin, institution_id):
    device, headers = register_device(site_client, admin, institution_id)
    registrar = staff_client("registrar", institution_id)

    revoked = _post(registrar, f"/workbench/devices/{device['id']}/revoke", {})

    assert revoked.status_code == 303 and revoked.headers["location"].endswith("done=revoked")
    assert "已停用" in registrar.get(revoked.headers["location"]).text
    assert site_client.post(f"/api/v1/devices/{device['id']}/readings", headers=headers,
                            json={"readings": [reading(1)]}).status_code == 401


def test_bad_device_input_is_refused_in_place_and_nothing_is_written(site_client, staff_client, admin, institution_id):
    registrar = staff_client("registrar", institution_id)

    wrong_limit = _post(registrar, "/workbench/devices", {**CREMATOR, "kind": "cold_storage", "cycle_max_minutes": "60"})
    no_model = _post(registrar, "/workbench/devices", {**CREMATOR, "model": ""})

    assert wrong_limit.status_code == no_model.status_code == 400
    assert 'id="cycle_max_minutes-error"' in wrong_limit.text and "这类设备没有该项限值" in wrong_limit.text
    assert "一号火化间" in wrong_limit.text  # what was typed, kept
    assert 'id="model-error"' in no_model.text
    assert _devices(site_client, admin, institution_id) == []


def test_roles_without_the_permission_cannot_come_in(staff_client, institution_id):
    reviewer = staff_client("reviewer")

    assert reviewer.get("/workbench/devices").status_code == 403
