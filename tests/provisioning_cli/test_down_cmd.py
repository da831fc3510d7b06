"""`fsp down`: not served but data kept; `--purge` deletes, only when confirmed."""
import pytest

from provisioning_cli import down_cmd


@pytest.fixture
def provisioned(fsp, home):
    fsp("up", "beijing", "tianjin")
    return home


def _row(fsp_json, slug):
    return next(r for r in fsp_json("status") if r["tenant"] == slug)


def test_down_keeps_the_data(fsp_json, provisioned):
    rows = fsp_json("down", "beijing")

    assert {(r["resource"], r["outcome"]) for r in rows} == {("serve", "updated"), ("monitoring", "deleted"),
                                                             ("maintenance", "created")}
    assert (provisioned / "tenants" / "beijing" / "registry.db").exists()
    assert (provisioned / "tenants" / "ministry" / "exchange-peers" / "beijing.pem").exists()
    assert not (provisioned / "monitoring" / "targets" / "beijing.json").exists()
    row = _row(fsp_json, "beijing")
    assert row["provisioned"] is True and row["served"] is False and row["migration"] == row["head"]
    assert {r["outcome"] for r in fsp_json("down", "beijing")} == {"unchanged", "absent"}


def test_purge_without_yes_refuses_when_it_cannot_ask(fsp, fsp_json, provisioned):
    result = fsp("down", "beijing", "--purge", ok=False)

    assert "pass --yes" in result.stderr
    assert (provisioned / "tenants" / "beijing" / "registry.db").exists()
    assert _row(fsp_json, "beijing")["provisioned"] is True


def test_purge_asks_and_a_no_keeps_everything(fsp, fsp_json, provisioned, monkeypatch):
    monkeypatch.setattr(down_cmd, "_interactive", lambda: True)

    result = fsp("down", "beijing", "--purge", input="n\n", ok=False)

    assert "Delete beijing's database" in result.stderr and "nothing deleted" in result.stderr
    assert _row(fsp_json, "beijing")["provisioned"] is True


def test_purge_asks_and_a_yes_deletes(fsp, fsp_json, provisioned, monkeypatch):
    monkeypatch.setattr(down_cmd, "_interactive", lambda: True)

    fsp("down", "beijing", "--purge", input="y\n")

    assert _row(fsp_json, "beijing")["provisioned"] is False


def test_purge_with_yes_deletes_everything_of_the_tenant_only(fsp_json, provisioned):
    rows = fsp_json("down", "110000", "--purge", "--yes")

    assert {r["resource"]: r["outcome"] for r in rows} == {
        "database": "deleted", "registration": "deleted", "monitoring": "deleted", "keys": "deleted",
        "state": "deleted"}
    assert not (provisioned / "tenants" / "beijing").exists()
    assert not (provisioned / "tenants" / "ministry" / "exchange-peers" / "beijing.pem").exists()
    assert _row(fsp_json, "beijing")["provisioned"] is False
    assert _row(fsp_json, "tianjin")["provisioned"] is True
    # provisioning again starts from nothing
    assert {r["outcome"] for r in fsp_json("up", "beijing")["resources"] if r["tenant"] == "beijing"} == {"created"}


def test_the_ministry_cannot_be_purged_under_its_provinces(fsp, provisioned):
    result = fsp("down", "ministry", "--purge", "--yes", ok=False)

    assert "provinces still registered with the ministry: beijing, tianjin" in result.stderr
    assert (provisioned / "tenants" / "ministry" / "registry.db").exists()


def test_down_of_an_unprovisioned_or_unknown_tenant(fsp):
    assert "not provisioned" in fsp("down", "hebei", ok=False).stderr
    assert "did you mean: hebei" in fsp("down", "hebie", ok=False).stderr
