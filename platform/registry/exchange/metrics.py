"""Exchange metrics, registered on the registry the process (or app) exposes at /metrics."""
from prometheus_client import CollectorRegistry, Counter, Gauge


class HubMetrics:
    """Ministry side. The province label only ever holds slugs whose signature verified (bounded by the peers)."""

    def __init__(self, registry: CollectorRegistry):
        self.batches = Counter("fsp_exchange_batches_received_total", "Exchange batches accepted, by province",
                               ["province"], registry=registry)
        self.events = Counter("fsp_exchange_events_received_total",
                              "Events newly stored in the national table, by province", ["province"], registry=registry)
        self.refusals = Counter(
            "fsp_exchange_refusals_total",
            "Exchange batches refused, by reason (unauthorized, gap, conflict, invalid, too_large)", ["reason"],
            registry=registry)
        self.matches = Counter("fsp_exchange_matches_returned_total",
                               "Cross-province pairs the provinces pulled back, by province", ["province"],
                               registry=registry)


class WorkerMetrics:
    """Province side: what the exchange worker shipped, and why it failed."""

    def __init__(self, registry: CollectorRegistry):
        self.batches = Counter("fsp_exchange_batches_shipped_total", "Batches the ministry acknowledged",
                               registry=registry)
        self.events = Counter("fsp_exchange_events_shipped_total", "Outbox events marked shipped",
                              registry=registry)
        self.failures = Counter("fsp_exchange_failures_total",
                                "Shipping failures by reason (unreachable, unavailable, unauthorized, gap, rejected, too_large; matches: "
                                "the ministry refused to return cross-province pairs)",
                                ["reason"], registry=registry)
        self.last_success = Gauge("fsp_exchange_last_success_timestamp_seconds",
                                  "Unix time of the last shipping round that reached the ministry (0: none yet)",
                                  registry=registry)
        self.acknowledged = Gauge("fsp_exchange_acknowledged_seq", "Outbox seq the ministry acknowledged last",
                                  registry=registry)
        self.stopped = Gauge("fsp_exchange_worker_stopped",
                             "1 when the worker stopped shipping on a refusal that needs an operator",
                             registry=registry)
        self.matches = Counter("fsp_exchange_matches_received_total",
                               "Cross-province pairs naming this province pulled from the ministry", registry=registry)
        self.matches_failing = Gauge(
            "fsp_exchange_matches_pull_failing",
            "1 while the last pull of cross-province pairs from the ministry failed (shipping goes on without it)",
            registry=registry)
        for reason in ("unreachable", "unavailable", "unauthorized", "gap", "rejected", "too_large", "matches"):
            self.failures.labels(reason=reason)  # present at 0, so rate() and alerts see the first failure
