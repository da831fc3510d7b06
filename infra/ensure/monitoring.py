"""A tenant's scrape target, as a Prometheus file_sd file the fleet Prometheus watches."""
import json
from pathlib import Path

from infra.ensure import Outcome, Removal
from infra.ensure.files import ensure_file, remove_path


def scrape_target(*, slug: str, code: str, address: str) -> list[dict]:
    """The file_sd entry: the `fsp serve` address, the tenant's metrics path, province and code labels."""
    return [{"targets": [address],
             "labels": {"province": slug, "code": code, "__metrics_path__": f"/{slug}/metrics"}}]


def ensure_scrape_target(targets_dir: Path, *, slug: str, code: str, address: str) -> Outcome:
    """`<targets_dir>/<slug>.json` names the tenant's metrics endpoint at `address` (host:port)."""
    text = json.dumps(scrape_target(slug=slug, code=code, address=address), indent=2, sort_keys=True) + "\n"
    # Prometheus runs as its own user and must read the file; it holds no secret
    return ensure_file(targets_dir / f"{slug}.json", text.encode(), mode=0o644)


def remove_scrape_target(targets_dir: Path, *, slug: str) -> Removal:
    """Prometheus stops scraping the tenant."""
    return remove_path(targets_dir / f"{slug}.json")
