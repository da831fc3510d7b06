"""The national records one batch touches, read in one query per table before its events are applied.

Applying a batch event by event would read each record with its own query (and every later statement would wait
for the last): at 1,000 events a batch, thousands of round trips. Instead the records every event of the batch
may name are read at once, and the batch's events then find them (or learn they do not exist yet) here, in
memory. Records the batch creates are kept here too, so a later event of the same batch finds them.
"""
import uuid
from collections.abc import Iterable

from sqlmodel import Session, SQLModel, col, select

from registry.exchange.models import BatchEvent

_KEY = "registry.national.loaded"
_CHUNK = 1000  # ids per IN list: within every backend's limit on bound parameters


def _ids(payload: dict) -> Iterable[uuid.UUID]:
    """Every id an event's payload names (its own, its case's, its institution's, a replaced certificate's)."""
    for name in ("id", "case_id", "institution_id"):
        value = payload.get(name)
        if isinstance(value, str):
            try:
                yield uuid.UUID(value)
            except ValueError:
                continue
    replaced = payload.get("replaced")
    if isinstance(replaced, dict):
        yield from _ids(replaced)


def load(session: Session, *, province: str, events: list[BatchEvent], models: Iterable[type[SQLModel]]) -> None:
    """Read the records of `models` that the events may name; afterwards `find` answers for them from memory."""
    ids = sorted({found for event in events if isinstance(event.payload, dict) for found in _ids(event.payload)})
    cache: dict[tuple[type[SQLModel], tuple], SQLModel | None] = {}
    for model in models:
        key_name = next(c.name for c in model.__table__.primary_key.columns if c.name != "province_slug")
        key_column = getattr(model, key_name)
        found = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            for record in session.exec(select(model).where(col(model.province_slug) == province,
                                                           col(key_column).in_(chunk))):
                found[getattr(record, key_name)] = record
        for id_ in ids:
            cache[(model, (province, id_))] = found.get(id_)
    session.info[_KEY] = cache


def find(session: Session, model: type[SQLModel], key: tuple) -> SQLModel | None:
    """The record at `key` (province first): from what the batch loaded, else from the database."""
    cache = session.info.get(_KEY)
    if cache is not None and (model, key) in cache:
        return cache[(model, key)]
    record = session.get(model, key)
    if cache is not None:
        cache[(model, key)] = record
    return record


def created(session: Session, record: SQLModel, key: tuple) -> None:
    """A record the batch made: later events of the batch find it."""
    cache = session.info.get(_KEY)
    if cache is not None:
        cache[(type(record), key)] = record


def forget(session: Session) -> None:
    session.info.pop(_KEY, None)
