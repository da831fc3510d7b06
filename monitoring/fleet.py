"""The fleet as the ministry Prometheus sees it: one row per tenant it federates, read over its HTTP API."""
from datetime import UTC, datetime
from typing import Any

import httpx

# column → instant query; every answer is one series per `province`
QUERIES = {
    "reachable": 'up{job="federate"}',
    "up": "tenant:up",
    "version": "tenant:build_info",
    "request_rate": "tenant:http_requests:rate5m",
    "error_ratio": "tenant:http_error_ratio:rate5m",
    "p95_seconds": "tenant:http_request_duration_seconds:p95_5m",
    "outbox_pending": "tenant:outbox_pending_events:sum",
    "outbox_lag_seconds": "tenant:outbox_oldest_pending_age_seconds:max",
    "last_backup": "tenant:backup_last_success_timestamp_seconds:max",
    "alerts": 'ALERTS{alertstate="firing"}',
}


class PrometheusUnreachable(Exception):
    """The ministry Prometheus did not answer, or not as Prometheus does."""


def query(client: httpx.Client, expr: str) -> list[dict]:
    """An instant query's result vector; any failure is PrometheusUnreachable naming the URL."""
    try:
        response = client.get("/api/v1/query", params={"query": expr})
        body = response.json()
    except httpx.HTTPError as err:
        raise PrometheusUnreachable(f"cannot reach the ministry Prometheus at {client.base_url}: "
                                    f"{type(err).__name__}: {err}") from None
    except ValueError:
        raise PrometheusUnreachable(f"{client.base_url} answered {response.status_code} without JSON: "
                                    "is it a Prometheus?") from None
    if response.status_code != 200 or body.get("status") != "success":
        raise PrometheusUnreachable(f"the ministry Prometheus at {client.base_url} refused `{expr}`: "
                                    f"{body.get('error', response.status_code)}")
    return body["data"]["result"]


def fleet_status(url: str, *, timeout: float = 5.0) -> list[dict[str, Any]]:
    """One row per tenant of which the ministry has any series: up, version, traffic, errors, latency, exchange lag,
    backup, firing alerts. A tenant whose registry or Prometheus does not answer is a row with `up` false;
    `scraped` is false when the ministry has only alerts about it (no federation target, no `tenant:up`)."""
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        answers = {column: query(client, expr) for column, expr in QUERIES.items()}
    rows: dict[str, dict[str, Any]] = {}

    def row(province: str) -> dict[str, Any]:
        return rows.setdefault(province, {
            "tenant": province, "up": False, "version": None, "request_rate": None, "error_ratio": None,
            "p95_seconds": None, "outbox_pending": None, "outbox_lag_seconds": None, "last_backup": None,
            "alerts": [], "scraped": False, "_reachable": False, "_registry_up": False})

    for series in answers["reachable"]:
        entry = row(series["metric"].get("province", "?"))
        entry["_reachable"], entry["scraped"] = _value(series) == 1, True
    for column, series_list in answers.items():
        for series in series_list:
            province = series["metric"].get("province")
            if province is None or column == "reachable":
                continue
            entry = row(province)
            if column == "up":
                entry["_registry_up"], entry["scraped"] = _value(series) == 1, True
            elif column == "version":
                entry["version"] = series["metric"].get("version")
            elif column == "alerts":
                entry["alerts"] = sorted({*entry["alerts"], series["metric"].get("alertname", "?")})
            elif column == "last_backup":
                stamp = _value(series)
                entry["last_backup"] = (datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
                                        if stamp and stamp > 0 else None)
            else:
                entry[column] = _value(series)
    for entry in rows.values():
        reachable, registry_up = entry.pop("_reachable"), entry.pop("_registry_up")
        entry["up"] = reachable and registry_up
    return list(rows.values())


def _value(series: dict) -> float | None:
    try:
        number = float(series["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return None if number != number else number  # NaN (no traffic) reads as no value
