"""`fsp payments reconcile`: the daily reconciliation of a provisioned province with its provider (the sandbox)."""
from datetime import timedelta

import pytest

from payment_sandbox import running_sandbox
from registry.db_types import today_in_china


@pytest.fixture
def beijing(fsp):
    fsp("up", "beijing")


def test_a_day_is_reconciled_with_the_providers_statement_and_recorded(fsp, fsp_json, beijing, monkeypatch, tmp_path):
    with running_sandbox(tmp_path) as sandbox:
        for name, value in sandbox.settings().items():
            monkeypatch.setenv(f"FSP_{name.upper()}", str(value))
        result = fsp_json("payments", "reconcile", "beijing", "--day", today_in_china().isoformat())
        assert (result["day"], result["matched"], result["missing_locally"], result["findings"]) == (
            today_in_china().isoformat(), 0, 0, [])
        assert "missing_at_provider" in fsp("payments", "reconcile", "110000").stdout  # yesterday, by code


def test_bad_days_and_a_province_without_a_provider_are_refused(fsp, beijing, monkeypatch):
    for name in ("URL", "PUBLIC_KEY_FILE"):
        monkeypatch.delenv(f"FSP_PAYMENT_PROVIDER_{name}", raising=False)
    assert "is not a day" in fsp("payments", "reconcile", "beijing", "--day", "2026-02-30", ok=False).stderr
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    assert "in the future" in fsp("payments", "reconcile", "beijing", "--day", tomorrow, ok=False).stderr
    assert "not offered" in fsp("payments", "reconcile", "beijing", ok=False).stderr
