"""The tenant's Prometheus file_sd scrape target."""
import json

from infra.ensure.monitoring import ensure_scrape_target, remove_scrape_target


def test_file_sd_target_created_unchanged_updated(tmp_path):
    targets = tmp_path / "monitoring" / "targets"

    assert ensure_scrape_target(targets, slug="beijing", code="110000", address="127.0.0.1:8000") == "created"
    assert json.loads((targets / "beijing.json").read_text()) == [{
        "targets": ["127.0.0.1:8000"],
        "labels": {"province": "beijing", "code": "110000", "__metrics_path__": "/beijing/metrics"},
    }]
    assert ensure_scrape_target(targets, slug="beijing", code="110000", address="127.0.0.1:8000") == "unchanged"
    assert ensure_scrape_target(targets, slug="beijing", code="110000", address="127.0.0.1:9000") == "updated"
    assert json.loads((targets / "beijing.json").read_text())[0]["targets"] == ["127.0.0.1:9000"]


def test_remove(tmp_path):
    ensure_scrape_target(tmp_path, slug="yunnan", code="530000", address="127.0.0.1:8000")

    assert remove_scrape_target(tmp_path, slug="yunnan") == "deleted"
    assert remove_scrape_target(tmp_path, slug="yunnan") == "absent"
