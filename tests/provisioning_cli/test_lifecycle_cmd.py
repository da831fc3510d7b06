"""`fsp suspend` and `fsp resume` against beijing served for real on loopback (`fsp serve`'s gateway, with the
ministry): sign-ins and writes refused while reads and public pages go on with a notice, the exchange paused and
then shipping from where it stopped."""
import json
import time
from collections.abc import Callable

import httpx
from sqlmodel import Session, col, select

from factories import institution_payload
from registry.audit.models import AuditEntry

BROWSER = {"Accept": "text/html"}


def _eventually(check: Callable[[], bool], seconds: float = 12.0) -> None:
    """Served processes read the tenant's status every 2 s and keep pages 5 s: wait that long, no longer."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not seen in time"
        time.sleep(0.25)


def _write(province) -> httpx.Response:
    return httpx.post(f"{province.api}/institutions", headers=province.staff("provincial-admin"),
                      json=institution_payload())


def _shipped(fsp) -> dict:
    return json.loads(fsp("exchange", "ship", "beijing", "--json").stdout)[0]


def test_a_suspended_tenant_refuses_sign_ins_and_writes_keeps_reads_and_resumes_shipping(fsp, fsp_json, province,
                                                                                         tenant):
    province.institution()  # a write while active: one event waits in the outbox
    suspended = fsp_json("suspend", "beijing", "--reason", "年度安全检查")

    assert suspended["outcome"] == "updated"
    assert suspended["lifecycle"]["state"] == "suspended" and suspended["lifecycle"]["reason"] == "年度安全检查"
    _eventually(lambda: _write(province).status_code == 503)
    refused = _write(province)
    assert refused.headers["Retry-After"].isdigit()
    assert refused.json()["errors"][0]["field"] == "tenant"
    assert refused.json()["errors"][0]["rule"] == "tenant_suspended"
    assert "暂停服务" in refused.json()["errors"][0]["message"]
    # reads go on, public pages say why nobody can sign in
    assert httpx.get(f"{province.api}/institutions").status_code == 200
    _eventually(lambda: "本平台暂停服务" in httpx.get(f"{province.url}/beijing/", headers=BROWSER).text)
    for door in ("my", "workbench"):
        sign_in = httpx.post(f"{province.url}/beijing/{door}/sign-in", data={"username": "someone"}, headers=BROWSER)
        assert sign_in.status_code == 503 and "平台暂停服务" in sign_in.text
    assert httpx.get(f"{province.url}/beijing/my/sign-in", headers=BROWSER).status_code == 200  # the page, with the notice
    assert "beijing is suspended" in fsp("token", "beijing", "--role", "provincial-admin", ok=False).stderr
    # the exchange is paused: nothing shipped, and the operator is told so
    paused = _shipped(fsp)
    assert paused["paused"] is True and paused["shipped"] == 0 and paused["pending"] >= 1
    assert "paused" in fsp("exchange", "ship", "beijing").stdout
    # every refusal is audited
    with tenant.engine(tenant.catalog.resolve("beijing")) as engine, Session(engine) as session:
        refusals = session.exec(select(AuditEntry).where(AuditEntry.result == "refused",
                                                         col(AuditEntry.detail).contains("tenant_suspended"))).all()
        actions = {entry.action for entry in refusals}
        api_actors = {entry.actor for entry in refusals if entry.action.endswith("/api/v1/institutions")}
    assert any(a.startswith("POST ") and a.endswith("/api/v1/institutions") for a in actions)
    assert api_actors == {"staff"}  # who tried, from the token (the refusal comes before the route's sign-in check)
    assert any(a.startswith("POST ") and a.endswith("/my/sign-in") for a in actions)

    assert fsp_json("suspend", "beijing", "--reason", "年度安全检查")["outcome"] == "unchanged"
    resumed = fsp_json("resume", "beijing")
    assert resumed["outcome"] == "updated" and resumed["lifecycle"]["state"] == "active"
    assert fsp_json("resume", "beijing")["outcome"] == "unchanged"
    _eventually(lambda: _write(province).status_code == 201)
    assert fsp("token", "beijing", "--role", "provincial-admin").stdout.strip()
    shipped = _shipped(fsp)
    assert shipped["paused"] is False and shipped["problem"] is None and shipped["pending"] == 0
    assert shipped["shipped"] == paused["pending"] + 1  # the one held back, then the write after resuming
    status = next(row for row in fsp_json("status") if row["tenant"] == "beijing")
    assert status["lifecycle"]["state"] == "active"


def test_only_a_provisioned_tenant_can_be_suspended(fsp, tenant):
    refused = fsp("suspend", "shandong", ok=False)
    assert "shandong is not provisioned here" in refused.stderr
