"""`fsp maintenance` and `fsp down`'s window, without Alertmanager: recorded in the tenant's state, refused clearly.
(With a real Alertmanager, silences and notifications: tests/monitoring/test_fleet_alerting.py.)"""
import json
from datetime import UTC, datetime, timedelta

import pytest

from provisioning_cli import down_cmd


@pytest.fixture
def provisioned(fsp, home):
    fsp("up", "beijing")
    return home


def _state(home, slug="beijing"):
    return json.loads((home / "tenants" / slug / "state.json").read_text())


def test_a_window_has_a_reason_and_an_end_and_is_listed_until_ended(fsp, fsp_json, provisioned):
    before = datetime.now(UTC)
    [window] = fsp_json("maintenance", "start", "110000", "--reason", "升级数据库", "--for", "1h30m")

    assert (window["tenant"], window["reason"], window["silenced"]) == ("beijing", "升级数据库", False)
    end = datetime.fromisoformat(window["until"])
    assert timedelta(minutes=89) < end - before < timedelta(minutes=91)
    assert "no Alertmanager running" in fsp("maintenance", "list").stdout
    assert _state(provisioned)["maintenance"]["reason"] == "升级数据库"
    assert _state(provisioned)["history"][-1] == {"at": _state(provisioned)["history"][-1]["at"],
                                                  "resource": "maintenance", "outcome": "started", "reason": "升级数据库"}

    # a later start replaces it; --until without an offset is China time
    [window] = fsp_json("maintenance", "start", "beijing", "--reason", "换服务器", "--until",
                        (datetime.now(UTC) + timedelta(hours=3)).astimezone(down_cmd.maintenance.CHINA)
                        .replace(tzinfo=None).isoformat(timespec="minutes"))
    assert window["reason"] == "换服务器" and window["until_china"].endswith("CST")
    assert [w["reason"] for w in fsp_json("maintenance", "list")] == ["换服务器"]

    [ended] = fsp_json("maintenance", "end", "beijing")
    assert ended["reason"] == "换服务器"
    assert fsp_json("maintenance", "list") == [] and "maintenance" not in _state(provisioned)
    assert "beijing has no maintenance window" in fsp("maintenance", "end", "beijing", ok=False).stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--for", "2h"), "needs a reason"),
    (("--reason", "x"), "--until TIME or --for DURATION"),
    (("--reason", "x", "--for", "2h", "--until", "2030-01-01T00:00"), "--until TIME or --for DURATION"),
    (("--reason", "x", "--for", "soon"), "not a duration"),
    (("--reason", "x", "--for", "8d"), "at most 7 days"),
    (("--reason", "x", "--until", "2020-01-01T08:00"), "not in the future"),
    (("--reason", "x", "--until", "tomorrow"), "not a time"),
    (("--reason", "  ", "--for", "1h"), "needs a reason"),
])
def test_bad_windows_are_refused_and_nothing_is_recorded(fsp, provisioned, args, message):
    result = fsp("maintenance", "start", "beijing", *args, ok=False)

    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "maintenance" not in _state(provisioned)


def test_a_tenant_not_provisioned_has_no_window(fsp, home):
    assert "not provisioned" in fsp("maintenance", "start", "tianjin", "--reason", "x", "--for", "1h", ok=False).stderr
    assert "not provisioned" in fsp("down", "tianjin", "--reason", "x", ok=False).stderr
    assert not (home / "tenants" / "tianjin").exists()


def test_down_opens_a_window_with_the_reason_given_or_asked_for(fsp, fsp_json, provisioned, monkeypatch):
    fsp("down", "beijing", "--reason", "机房断电", "--for", "2h")
    assert [(w["tenant"], w["reason"]) for w in fsp_json("maintenance", "list")] == [("beijing", "机房断电")]

    # at a terminal it asks; a new reason replaces the window
    fsp("up", "beijing")
    monkeypatch.setattr(down_cmd, "_interactive", lambda: True)
    result = fsp("down", "beijing", input="更换硬盘\n")
    assert "Why is beijing going down" in result.stderr
    [window] = fsp_json("maintenance", "list")
    assert window["reason"] == "更换硬盘"
    assert timedelta(minutes=59) < datetime.fromisoformat(window["until"]) - datetime.now(UTC) <= timedelta(hours=1)


def test_down_in_a_script_opens_a_window_of_an_hour_by_default(fsp_json, provisioned):
    fsp_json("down", "beijing")

    [window] = fsp_json("maintenance", "list")
    assert window["reason"] == "planned downtime (fsp down)"
    assert datetime.fromisoformat(window["until"]) - datetime.now(UTC) <= timedelta(hours=1)


def test_a_bad_window_leaves_the_tenant_served(fsp, fsp_json, provisioned):
    assert "at most 7 days" in fsp("down", "beijing", "--for", "30d", ok=False).stderr

    row = next(r for r in fsp_json("status") if r["tenant"] == "beijing")
    # not taken down: it would answer as soon as `fsp serve` runs (none runs in this test)
    assert row["serve"] == "not running" and fsp_json("maintenance", "list") == []
