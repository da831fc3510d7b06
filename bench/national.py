"""The national database at scale: ingest through the exchange against COPY, statistics against scans, memory.

    .venv/bin/python bench/national.py [--cases 200000] [--batch 1000] [--senders 1] [--queries 30] [--json] [--strict]

Synthetic national cases, valid-shaped, spread over 32 provinces and 15 years (2011-2025), half of them cremated,
go to a fresh PostgreSQL database of the ministry, migrated to head:

- **ingest**: each province's events, in batches of `--batch`, signed with the province's SM2 key and handed to
  the ministry's receiving endpoint function (`registry.exchange.api._receive`: signature check, parsing, the
  event log, the national records and the statistics counters, one transaction per batch), against a raw `COPY`
  of the same case rows into a table of the same columns (no index, no constraint) in another database.
  The batches are made and signed beforehand (spooled to a scratch file, as provinces make them on their own
  machines). `--senders N`: N threads hand them over at once, each its share of the provinces (as 32 provinces
  ship at the same time and the hub's request threads receive them side by side); the rate is over the time the
  ministry was receiving.
  Target: ingest / COPY >= 0.3 (cases per second).
- **statistics**: three questions, each answered from the counters kept at ingest and by computing it from the
  records (the same SQL a report would run without them), `--queries` times each: a province's month by county
  and sex, the nation's year by province, and a KPI row (a province's cremation rate for a year). Target: counters
  >= 100x faster (median) than a full scan of the records (index scans off for that query), p99 < 100 ms. The
  same SQL with the records' indexes is timed too and its ratio shown beside, for information.
- **memory**: the resident set of this process while ingesting, sampled after each batch: it must stay flat.

The issue's figure is 10 million cases (`--cases 10000000`); the default is smaller so a run takes minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics as stats
import struct
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (BENCH_DIR, ROOT, ROOT / "platform"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

INGEST_TARGET, SPEEDUP_TARGET, P99_TARGET_MS = 0.3, 100.0, 100.0
YEARS = range(2011, 2026)
REGIONS = ("110105", "310104", "370102", "440106", "510104", "530102", "610103", "650102")
CAUSES = ("disease", "disease", "disease", "accident", "other")
PLACES = ("hospital", "home", "care_institution", "other")


def provinces() -> list[tuple[str, str]]:
    """32 (slug, code) pairs: the catalog's provinces (the ministry itself excluded)."""
    from tenants import load_catalog

    catalog = load_catalog()
    found = [(spec.slug, spec.code) for spec in catalog.tenants if spec.kind != "ministry"]
    return sorted(found)[:32]


def case_payload(rng: random.Random, code: str, case_id: uuid.UUID) -> dict:
    """A case event's payload as a province ships it (masked number, blind index)."""
    year = rng.choice(YEARS)
    died = datetime(year, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400))
    birth = date(year - 40 - rng.randrange(60), 1 + rng.randrange(12), 1 + rng.randrange(28))
    region = code[:2] + rng.choice(REGIONS)[2:]
    return {"id": str(case_id), "status": "declared", "institution_id": str(uuid.UUID(int=7)),
            "deceased_name": "某某", "sex": rng.choice("12"), "ethnicity": "01", "id_type": "resident_id",
            "id_number": region + "************", "birth_date": birth.isoformat(), "household_region": region,
            "death_at": died.isoformat(), "death_place_type": rng.choice(PLACES), "death_manner": "normal",
            "cause_category": rng.choice(CAUSES), "death_certificate_no": None, "informant": {},
            "archive_ref": None, "archived_at": None, "created_at": died.isoformat(),
            "updated_at": died.isoformat(), "person_ref": f"{rng.getrandbits(256):064x}"}


def cremation_payload(case: dict) -> dict:
    started = datetime.fromisoformat(case["death_at"]) + timedelta(days=3)
    return {"id": str(uuid.uuid5(uuid.UUID(case["id"]), "cremation")), "case_id": case["id"],
            "institution_id": str(uuid.UUID(int=7)), "started_at": started.isoformat(),
            "ended_at": (started + timedelta(hours=1)).isoformat()}


def province_events(slug: str, code: str, cases: int, seed: int):
    """(event type, aggregate id, payload) of `cases` cases, every other one cremated, in seq order."""
    rng = random.Random(seed)
    for n in range(cases):
        case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        case = case_payload(rng, code, case_id)
        yield "case.declared", "case", case_id, case
        if n % 2 == 0:
            yield "cremation.recorded", "cremation", case_id, cremation_payload(case)


# --- ingest -----------------------------------------------------------------------------------------------------

def ingest(url: str, work: Path, per_province: list[tuple[str, str, int]], batch_size: int, senders: int = 1) -> dict:
    """Every province's events through the receiving endpoint's function, from `senders` threads at once (each
    sends its provinces' batches in turn, as the hub's request threads take them from provinces shipping at the
    same time); cases/s over the time the ministry was receiving, and the memory seen."""
    import threading

    from prometheus_client import CollectorRegistry
    from sqlalchemy import create_engine

    from infra.ensure.keys import ensure_tenant_keys
    from registry.exchange.api import Receiver, _receive, settle_startup_objects
    from registry.exchange.metrics import HubMetrics
    from registry.journal import Journal
    from registry.security import crypto

    keys, peers = work / "keys", work / "peers"
    ensure_tenant_keys(keys)
    peers.mkdir()
    signers = {}
    for slug, _, _ in per_province:
        # each province signs with an SM2 key, as provisioning makes them, registered with the ministry
        private_text, public_text = crypto.new_signer_files(crypto.SM2)
        signers[slug] = crypto.signer_from_files(private_text, public_text)
        (peers / f"{slug}.pem").write_text(public_text)
    engine = create_engine(url, pool_size=senders + 1)
    receiver = Receiver(journal=Journal.of(engine, keys_dir=keys, checkpoint_file=work / "checkpoint.json"),
                        peers_dir=peers, metrics=HubMetrics(CollectorRegistry()), max_events=batch_size)
    settle_startup_objects()  # as mounting the endpoint does in the ministry's app
    total = sum(count for _, _, count in per_province)
    state = _Progress(total)

    # the provinces' batches are made and signed first, as the provinces do on their own machines: the senders
    # then only hand them over, and the ministry's process does nothing but receive
    spool = work / "spool"
    spool.mkdir()
    for index, (slug, code, count) in enumerate(per_province):
        _spool(spool / f"{slug}.batches", _signed_batches(slug, code, count, index, batch_size, signers[slug]))

    def send(mine: list[tuple[int, tuple[str, str, int]]]) -> None:
        for _, (slug, _, _) in mine:
            for body, signature, cases in _unspooled(spool / f"{slug}.batches"):
                with state.receiving():
                    answer = _receive(receiver, body, signature)
                if answer.status_code != 200:
                    raise SystemExit(f"the ministry refused a batch of {slug}: {answer.status_code} "
                                     f"{answer.body[:300]!r}")
                state.received(cases)

    shares = [list(enumerate(per_province))[n::senders] for n in range(senders)]
    threads = [threading.Thread(target=_failing_loudly(send, state), args=(share,), name=f"sender-{n}")
               for n, share in enumerate(shares)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    if state.failure:
        raise state.failure
    return {"cases": state.cases, "senders": senders, "seconds": round(state.busy, 2),
            "cases_per_s": round(state.cases / state.busy), "rss_mb_first": state.rss[0],
            "rss_mb_last": state.rss[-1], "rss_mb_max": max(state.rss)}


def _signed_batches(slug: str, code: str, count: int, seed: int, batch_size: int, signer):
    """(body, signature, cases in it) of each of the province's batches, as its shipper sends them."""
    seq, pending = 1, []
    for kind, aggregate, aggregate_id, payload in province_events(slug, code, count, seed=seed):
        pending.append({"seq": seq, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{slug}/{seq}")),
                        "at": payload.get("created_at") or payload["started_at"], "event_type": kind,
                        "aggregate_type": aggregate, "aggregate_id": str(aggregate_id), "payload": payload})
        seq += 1
        if len(pending) == batch_size:
            yield _signed(slug, code, pending, signer)
            pending = []
    if pending:
        yield _signed(slug, code, pending, signer)


def _spool(path: Path, batches) -> None:
    with path.open("wb") as out:
        for body, signature, cases in batches:
            signed = signature.encode()
            out.write(struct.pack("<IHI", len(body), len(signed), cases) + body + signed)


def _unspooled(path: Path):
    """The spooled batches, one at a time."""
    head = struct.calcsize("<IHI")
    with path.open("rb") as spooled:
        while header := spooled.read(head):
            size, signed, cases = struct.unpack("<IHI", header)
            yield spooled.read(size), spooled.read(signed).decode(), cases


def _signed(slug: str, code: str, events: list[dict], signer) -> tuple[bytes, str, int]:
    from registry.exchange.signing import canonical

    body = canonical({"province": slug, "province_code": code, "first_seq": events[0]["seq"],
                      "last_seq": events[-1]["seq"], "events": events})
    return body, signer.sign(body), sum(1 for event in events if event["event_type"] == "case.declared")


class _Progress:
    """What the senders received so far, the time the ministry was busy receiving (any sender inside `_receive`:
    the senders' own making and signing of batches is the provinces' work, not the ministry's), memory, and
    a line every 30 s (a 10-million run takes most of an hour)."""

    def __init__(self, total: int):
        import threading

        self.total, self.cases, self.busy, self.rss = total, 0, 0.0, []
        self.failure: BaseException | None = None
        self._lock, self._inside, self._since = threading.Lock(), 0, 0.0
        self._next_report = time.monotonic() + 30

    @contextmanager
    def receiving(self):
        with self._lock:
            if self._inside == 0:
                self._since = time.perf_counter()
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0:
                    self.busy += time.perf_counter() - self._since

    def received(self, cases: int) -> None:
        with self._lock:
            self.cases += cases
            self.rss.append(_rss_mb())
            if time.monotonic() < self._next_report:
                return
            self._next_report = time.monotonic() + 30
            rate = self.cases / max(self.busy, 1e-9)
            print(f"ingested {self.cases:,} of {self.total:,} cases, {rate:,.0f} cases/s, about "
                  f"{(self.total - self.cases) / rate / 60:,.0f} min left, process {self.rss[-1]} MB (first batch "
                  f"{self.rss[0]} MB)", file=sys.stderr, flush=True)


def _failing_loudly(send, state: _Progress):
    """A sender whose failure ends the run (kept for the main thread to raise) instead of dying quietly."""
    def run(share):
        try:
            send(share)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread as it is
            state.failure = exc
    return run


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def copy_ceiling(url: str, per_province: list[tuple[str, str, int]]) -> dict:
    """The same case rows by COPY into a table of national_cases' columns, nothing else."""
    import psycopg
    from _support import _libpq

    columns = ("province_slug", "case_id", "province_code", "person_ref", "status", "institution_id", "sex",
               "ethnicity", "id_type", "birth_date", "household_region", "death_at", "death_place_type",
               "death_manner", "cause_category", "archive_ref", "archived_at", "last_seq", "updated_at")
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("""CREATE TABLE ceiling (province_slug varchar(32), case_id uuid, province_code varchar(6),
            person_ref varchar(64), status varchar(16), institution_id uuid, sex varchar(1), ethnicity varchar(2),
            id_type varchar(32), birth_date date, household_region varchar(6), death_at timestamptz,
            death_place_type varchar(32), death_manner varchar(16), cause_category varchar(16),
            archive_ref varchar(64), archived_at timestamptz, last_seq int, updated_at timestamptz)""")
        rows = 0
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ceiling ({', '.join(columns)}) FROM STDIN") as copy:
            now = datetime.now(UTC)
            for index, (slug, code, count) in enumerate(per_province):
                for seq, (kind, _, case_id, p) in enumerate(province_events(slug, code, count, seed=index), 1):
                    if kind != "case.declared":
                        continue
                    copy.write_row((slug, case_id, code, p["person_ref"], p["status"], p["institution_id"],
                                    p["sex"], p["ethnicity"], p["id_type"], p["birth_date"], p["household_region"],
                                    p["death_at"], p["death_place_type"], p["death_manner"], p["cause_category"],
                                    None, None, seq, now))
                    rows += 1
        seconds = time.perf_counter() - started
    return {"cases": rows, "seconds": round(seconds, 2), "cases_per_s": round(rows / seconds)}


# --- statistics ---------------------------------------------------------------------------------------------------

def questions(slug: str, code: str, year: int) -> dict[str, tuple]:
    """Each question: (from the counters, from the records), both callables of a Session."""
    from sqlalchemy import text

    from registry.national import statistics

    month_start = datetime(year, 6, 1, tzinfo=statistics.CHINA)
    year_start, year_end = datetime(year, 1, 1, tzinfo=statistics.CHINA), datetime(year + 1, 1, 1, tzinfo=statistics.CHINA)

    def scan(sql: str, **params):
        return lambda s: s.execute(text(sql), params).all()

    return {
        "province month by county and sex": (
            lambda s: statistics.table(s, metric="deaths", year=year, month=6, province=slug, level="county",
                                       by="sex"),
            scan("SELECT household_region, sex, count(*) FROM national_cases WHERE province_slug = :p AND "
                 "death_at >= :a AND death_at < :b GROUP BY 1, 2", p=slug, a=month_start,
                 b=datetime(year, 7, 1, tzinfo=statistics.CHINA))),
        "nation's year by province": (
            lambda s: statistics.table(s, metric="deaths", year=year, level="province"),
            scan("SELECT province_slug, substr(household_region, 1, 2), count(*) FROM national_cases "
                 "WHERE death_at >= :a AND death_at < :b GROUP BY 1, 2", a=year_start, b=year_end)),
        "KPI row: a province's cremation rate": (
            lambda s: (statistics.totals(s, metric="cremations", year=year, province=slug),
                       statistics.totals(s, metric="deaths", year=year, province=slug)),
            scan("SELECT (SELECT count(*) FROM national_cremations WHERE province_slug = :p AND started_at >= :a "
                 "AND started_at < :b), (SELECT count(*) FROM national_cases WHERE province_slug = :p AND "
                 "death_at >= :a AND death_at < :b)", p=slug, a=year_start, b=year_end)),
    }


# what a report without the counters costs at worst: every row read, as the issue defines the baseline
FULL_SCAN = ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan")


def time_questions(url: str, slug: str, code: str, repeats: int) -> dict:
    """Each question timed from the counters, from the records by a full scan (the target's baseline) and from the
    records as the planner would read them with the tables' indexes (for information)."""
    from sqlalchemy import create_engine, text
    from sqlmodel import Session

    engine = create_engine(url)
    found = {}
    with Session(engine) as session:
        session.execute(text("ANALYZE"))
        for name, (counters, records) in questions(slug, code, 2020).items():
            timings = {}
            for label, run in (("counters", counters), ("full_scan", records), ("indexed", records)):
                setting = "off" if label == "full_scan" else "on"
                for option in FULL_SCAN:
                    session.execute(text(f"SET {option} = {setting}"))
                timings[label] = _timed(session, run, repeats)
            timings["speedup"] = round(timings["full_scan"]["median_ms"] / timings["counters"]["median_ms"], 1)
            timings["speedup_indexed"] = round(timings["indexed"]["median_ms"] / timings["counters"]["median_ms"], 1)
            found[name] = timings
    engine.dispose()
    return found


def _timed(session, run, repeats: int) -> dict:
    run(session)  # warm the caches: all are measured warm
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(session)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"median_ms": round(stats.median(samples), 3),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3)}


def run(args) -> dict:
    from _support import ScratchDatabases, pg_admin_url

    from registry.db import upgrade_to_head

    chosen = provinces()
    per_province = [(slug, code, args.cases // len(chosen) + (1 if i < args.cases % len(chosen) else 0))
                    for i, (slug, code) in enumerate(chosen)]
    databases = ScratchDatabases(pg_admin_url(args.pg_url))
    try:
        ministry, ceiling = databases.create(), databases.create()
        ministry_url = ministry.replace("postgresql://", "postgresql+psycopg://", 1)
        upgrade_to_head(ministry_url)
        with tempfile.TemporaryDirectory() as work:
            ingested = ingest(ministry_url, Path(work), per_province, args.batch, args.senders)
        copied = copy_ceiling(ceiling, per_province)
        answered = time_questions(ministry_url, chosen[0][0], chosen[0][1], args.queries)
    finally:
        databases.close()
    ratio = round(ingested["cases_per_s"] / copied["cases_per_s"], 3)
    flat = ingested["rss_mb_last"] <= ingested["rss_mb_first"] * 1.5 + 50
    below = ratio < INGEST_TARGET or not flat or any(
        q["speedup"] < SPEEDUP_TARGET or q["counters"]["p99_ms"] >= P99_TARGET_MS for q in answered.values())
    return {"valid": True, "cases": args.cases, "provinces": len(chosen), "ingest": ingested, "copy": copied,
            "ingest_ratio": ratio, "memory_flat": flat, "questions": answered,
            "verdict": "BELOW" if below else "MEETS"}


def print_table(out: dict) -> None:
    i, c = out["ingest"], out["copy"]
    print(f"{out['cases']:,} cases over {out['provinces']} provinces and 15 years (half cremated)")
    print(f"ingest (signed batches, verified, projected, counted; {i['senders']} sender(s)): {i['cases_per_s']:,} cases/s "
          f"({i['seconds']} s); COPY: {c['cases_per_s']:,} cases/s; ratio {out['ingest_ratio']} "
          f"(target >= {INGEST_TARGET})")
    print(f"memory while ingesting: {i['rss_mb_first']} MB after the first batch, {i['rss_mb_last']} MB after the "
          f"last, {i['rss_mb_max']} MB at most ({'flat' if out['memory_flat'] else 'GROWING'})")
    for name, q in out["questions"].items():
        print(f"{name}: counters {q['counters']['median_ms']} ms (p99 {q['counters']['p99_ms']}), "
              f"full scan {q['full_scan']['median_ms']} ms: {q['speedup']}x (target >= {SPEEDUP_TARGET}x, "
              f"p99 < {P99_TARGET_MS} ms); with the records' indexes {q['indexed']['median_ms']} ms: "
              f"{q['speedup_indexed']}x")
    print(f"verdict: {out['verdict']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000, help="synthetic national cases (the issue: 10,000,000)")
    parser.add_argument("--batch", type=int, default=1000, help="events per exchange batch")
    parser.add_argument("--senders", type=int, default=1,
                        help="provinces sending at the same time (threads calling the receiving function side by side, "
                             "as the hub's request threads do; 1: one batch after another)")
    parser.add_argument("--queries", type=int, default=30, help="timed repetitions of each statistics question")
    parser.add_argument("--pg-url", help="admin URL (default: $FSP_TEST_PG_URL, else scripts/postgres-test-server)")
    parser.add_argument("--questions-on", metavar="URL",
                        help="only time the statistics questions on an existing ministry database (e.g. one a long "
                             "run left: its ingest and COPY are not measured again)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.cases < 32 or args.batch < 1 or args.queries < 1 or not 1 <= args.senders <= 32:
        parser.error("--cases must be at least 32 (one per province), --batch and --queries positive, --senders "
                     "between 1 and 32")
    if args.questions_on:
        slug, code = provinces()[0]
        answered = time_questions(args.questions_on, slug, code, args.queries)
        print(json.dumps(answered, ensure_ascii=False, indent=2))
        return 0
    out = run(args)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print_table(out)
    return 1 if args.strict and out["verdict"] == "BELOW" else 0


if __name__ == "__main__":
    sys.exit(main())
