"""Satisfaction ratings in the workbench: a registrar sees its institution's ratings and figures only, the
province every institution's; a held comment is marked as not public; roles without ratings:read are refused."""
import uuid

from assertions import text_of
from factories import booking_payload, create_institution, create_resource, end_booking, slot_start


def _headers(site, subject, roles, institution_id=None):
    token = site.state.ctx.issuer.mint(subject, roles, institution_id=uuid.UUID(institution_id) if institution_id else None)
    return {"Authorization": f"Bearer {token}"}


def _rated(site, site_client, institution_id, score, comment=None, *, hour=9) -> dict:
    """A booking at the institution confirmed, its time passed, and rated by its citizen."""
    registrar = _headers(site, f"registrar-{institution_id}", ["registrar"], institution_id)
    hall = create_resource(site_client, registrar, institution_id, name=f"厅{hour}", capacity=3)
    citizen = _headers(site, "citizen-0001", ["citizen"])
    booking = site_client.post("/api/v1/my/bookings", headers=citizen,
                               json=booking_payload(hall["id"], starts_at=slot_start(hour=hour))).json()
    assert site_client.post(f"/api/v1/bookings/{booking['id']}/confirm", headers=registrar).status_code == 200
    end_booking(site.state.ctx.engine, booking["id"])
    rated = site_client.post(f"/api/v1/my/bookings/{booking['id']}/rating", headers=citizen,
                             json={"score": score, "comment": comment})
    assert rated.status_code == 201, rated.text
    return booking


def test_a_registrar_sees_its_institutions_ratings_and_the_province_all(site, site_client, admin, staff_client,
                                                                        institution_id):
    other = create_institution(site_client, admin, name="天寿园殡仪馆")["id"]
    mine = _rated(site, site_client, institution_id, 5, "礼厅布置庄重", hour=9)
    held = _rated(site, site_client, institution_id, 2, "加微信退钱", hour=10)
    theirs = _rated(site, site_client, other, 1, hour=11)

    registrar = text_of(staff_client("registrar", institution_id).get("/workbench/ratings").text)
    province = text_of(staff_client("provincial-admin").get("/workbench/ratings").text)

    assert mine["number"] in registrar and held["number"] in registrar and theirs["number"] not in registrar
    assert "礼厅布置庄重" in registrar and "（待审核，未公开）" in registrar
    assert "八宝山殡仪馆 2 3.50" in registrar and "天寿园殡仪馆" not in registrar  # (5+2)/2
    assert theirs["number"] in province and "天寿园殡仪馆 1 1.00" in province
    held_only = text_of(staff_client("provincial-admin").get("/workbench/ratings?held=true").text)
    assert held["number"] in held_only and mine["number"] not in held_only
    assert "满意度评价" in staff_client("registrar", institution_id).get("/workbench/").text


def test_roles_without_ratings_read_are_refused(staff_client):
    answer = staff_client("auditor").get("/workbench/ratings")
    assert answer.status_code == 403
