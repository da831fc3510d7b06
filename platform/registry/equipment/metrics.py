"""Equipment on /metrics: gauges per active device read at scrape time from the newest-values table (one query),
and counters of readings accepted per kind and refused per reason. Labels are bounded: institution, device and
kind come from the registered devices, reasons from a fixed list."""
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine
from sqlmodel import Session, select

from registry.equipment.models import REFUSAL_REASONS, Device, DeviceKind, DeviceStatus, LatestReading, Metric

# a 401 is counted per reading of the refused batch: a wrong/unknown credential, or a revoked device's own
UNAUTHORIZED_REASONS = ("unauthorized", "revoked")
LABELS = ["institution", "device", "kind"]
# (metric name, help, the reading it shows)
_VALUES = (
    ("fsp_equipment_temperature_celsius", "Newest temperature reported by the device", Metric.temperature_c),
    ("fsp_equipment_running", "Whether the device reports running (1) or not (0)", Metric.running),
    ("fsp_equipment_door_open", "Whether the device reports its door open (1) or closed (0)", Metric.door_open),
    ("fsp_equipment_emission_mg_m3", "Newest emission concentration reported, mg/m3", Metric.emission_mg_m3),
)
_LIMITS = (
    ("fsp_equipment_temperature_max_celsius", "The device's registered temperature limit", "temperature_max_c", 1),
    ("fsp_equipment_emission_max_mg_m3", "The device's registered emission limit, mg/m3", "emission_max_mg_m3", 1),
    ("fsp_equipment_cycle_max_seconds", "The cremator's registered longest cycle", "cycle_max_minutes", 60),
)


class EquipmentMetrics:
    """The counters the ingest moves, and the collector of the devices' newest values."""

    def __init__(self, registry: CollectorRegistry, engine: Engine):
        self.readings = Counter("fsp_equipment_readings_total", "Device readings accepted, by kind of device",
                                ["kind"], registry=registry)
        self.refused = Counter("fsp_equipment_readings_refused_total", "Device readings refused, by reason",
                               ["reason"], registry=registry)
        for kind in DeviceKind:  # every series exists from the start: a rate over a missing series is no alert
            self.readings.labels(kind.value)
        for reason in (*REFUSAL_REASONS, *UNAUTHORIZED_REASONS):
            self.refused.labels(reason)
        registry.register(EquipmentCollector(engine))


class EquipmentCollector:
    def __init__(self, engine: Engine):
        self._engine = engine

    def collect(self):
        try:
            with Session(self._engine) as session:
                rows = session.exec(select(Device, LatestReading).outerjoin(
                    LatestReading, LatestReading.device_id == Device.id).where(Device.status == DeviceStatus.active)).all()
        except Exception:  # a down database (or one not migrated yet) shows as missing series; /readyz says why
            return
        yield from families(rows)


def families(rows) -> list[GaugeMetricFamily]:
    """The gauge families of (device, its newest reading of one metric or None) rows."""
    devices, latest = {}, {}
    for device, reading in rows:
        devices[device.id] = device
        if reading is not None:
            latest.setdefault(device.id, {})[reading.metric] = reading
    gauge = {name: GaugeMetricFamily(name, text, labels=LABELS) for name, text, *_ in (*_VALUES, *_LIMITS)}
    last = GaugeMetricFamily("fsp_equipment_last_reading_timestamp_seconds", "When the device's newest reading was "
                             "taken (Unix time)", labels=LABELS)
    cycle = GaugeMetricFamily("fsp_equipment_cycle_started_timestamp_seconds", "When the cremator's running cycle "
                              "started (Unix time); 0 when no cycle runs", labels=LABELS)
    for device_id, device in devices.items():
        labels = [str(device.institution_id), str(device_id), device.kind]
        values = latest.get(device_id, {})
        for name, _, metric in _VALUES:
            if metric.value in values:
                gauge[name].add_metric(labels, values[metric.value].value)
        for name, _, limit, factor in _LIMITS:
            if getattr(device, limit) is not None:
                gauge[name].add_metric(labels, getattr(device, limit) * factor)
        if values:
            last.add_metric(labels, max(reading.at for reading in values.values()).timestamp())
        if device.kind == DeviceKind.cremator:
            start, end = values.get(Metric.cycle_start.value), values.get(Metric.cycle_end.value)
            running = start is not None and (end is None or end.seq < start.seq)
            cycle.add_metric(labels, start.at.timestamp() if running else 0)
    return [*gauge.values(), last, cycle]
