"""The national records one batch touches: read in one query per table before its events are applied, changed in
memory, written set-wise once the batch is applied.

Applying a batch event by event would read and write each record with its own statements (and keep an ORM object
per record): at 1,000 events a batch, thousands of round trips. Instead the records every event of the batch may
name are read at once as plain rows (`Record`), the batch's events find them here (or learn they do not exist yet)
and change them, and `write` stores what changed: the new rows by COPY on PostgreSQL, the changed ones by one
UPDATE from a staging table; on SQLite one executemany each.
"""
import functools
import uuid
from collections.abc import Iterable

import psycopg
from sqlalchemy import ColumnElement, Table, and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from registry.exchange.models import BatchEvent

_KEY = "registry.national.loaded"


class Record:
    """A national record as a batch sees it: its table's columns as attributes (`record.sex`), nothing else; its
    table's model is `record.model`. Plain attributes: statistics read them thousands of times a batch."""

    model: type[SQLModel]

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @property
    def values(self) -> dict:
        return self.__dict__


@functools.cache
def _record_class(model: type[SQLModel]) -> type[Record]:
    return type(f"{model.__name__}Record", (Record,), {"model": model})


@functools.cache
def _defaults(model: type[SQLModel]) -> dict:
    return {c.name: (c.default.arg if c.default is not None and c.default.is_scalar else None)
            for c in model.__table__.columns}


class _Batch:
    """What one batch has read, made and changed."""

    def __init__(self):
        self.found: dict[tuple[type[SQLModel], tuple], Record | None] = {}
        self.stored: set[tuple[type[SQLModel], tuple]] = set()  # read from the database (else new in the batch)
        self.changed: dict[tuple[type[SQLModel], tuple], Record] = {}


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


@functools.cache
def _key_column(table: Table):
    return next(c for c in table.primary_key.columns if c.name != "province_slug")


def _key_columns(table: Table) -> list:
    """The primary key after the province: one column for most records, more for e.g. a credit listing's year."""
    return [c for c in table.primary_key.columns if c.name != "province_slug"]


def one_of(column, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the list bound as `name`. PostgreSQL: one array parameter, unnested as a set to join
    (`= ANY(array)` would be planned, once prepared, as a scan testing every row against the whole list)."""
    if dialect == "postgresql":
        return column.in_(select(func.unnest(bindparam(name, type_=ARRAY(column.type)))).scalar_subquery())
    return column.in_(bindparam(name, expanding=True))


def load(session: Session, *, province: str, events: list[BatchEvent], models: Iterable[type[SQLModel]]) -> None:
    """Read the records of `models` that the events may name, one query per table; `find` then answers for them."""
    ids = sorted({found for event in events if isinstance(event.payload, dict) for found in _ids(event.payload)})
    batch = _Batch()
    connection = session.connection()
    dialect = connection.dialect.name
    for model in models:
        table = model.__table__
        key = _key_column(table)
        found = {}
        if ids:
            query = select(table).where(table.c.province_slug == province, one_of(key, "ids", dialect))
            for row in connection.execute(query, {"ids": ids}).mappings():
                found[row[key.name]] = _record_class(model)(row)
        for id_ in ids:
            batch.found[(model, (province, id_))] = found.get(id_)
        batch.stored.update((model, (province, id_)) for id_ in found)
    session.info[_KEY] = batch


def find(session: Session, model: type[SQLModel], key: tuple) -> Record | None:
    """The record at `key` (province first): from what the batch loaded or made, else from the database."""
    batch: _Batch | None = session.info.get(_KEY)
    if batch is not None and (model, key) in batch.found:
        return batch.found[(model, key)]
    table = model.__table__
    columns = [table.c.province_slug, *_key_columns(table)]
    query = select(table).where(and_(*(column == value for column, value in zip(columns, key, strict=True))))
    row = session.connection().execute(query).mappings().first()
    record = _record_class(model)(row) if row is not None else None
    if batch is not None:
        batch.found[(model, key)] = record
        if record is not None:
            batch.stored.add((model, key))
    return record


def new(model: type[SQLModel], values: dict) -> Record:
    """A record not stored yet: every column of its table, at its default unless given."""
    return _record_class(model)({**_defaults(model), **values})


def created(session: Session, record: Record, key: tuple) -> None:
    """A record the batch made: later events of the batch find it, and it is written with the batch."""
    batch: _Batch = session.info[_KEY]
    batch.found[(record.model, key)] = record
    batch.changed[(record.model, key)] = record


def changed(session: Session, record: Record) -> None:
    """A record the batch changed: written with the batch (once, however often it changed)."""
    batch: _Batch = session.info[_KEY]
    key = (record.values["province_slug"], *(record.values[c.name] for c in _key_columns(record.model.__table__)))
    batch.changed[(record.model, key)] = record


def write(session: Session) -> None:
    """Store what the batch made and changed, table by table, in the open transaction."""
    batch: _Batch | None = session.info.get(_KEY)
    if batch is None or not batch.changed:
        return
    by_table: dict[type[SQLModel], tuple[list[dict], list[dict]]] = {}
    for (model, key), record in batch.changed.items():
        fresh, updated = by_table.setdefault(model, ([], []))
        (updated if (model, key) in batch.stored else fresh).append(record.values)
    batch.stored.update(batch.changed)
    batch.changed = {}
    connection = session.connection()
    for model, (fresh, updated) in by_table.items():
        if connection.dialect.name == "postgresql":
            _write_postgresql(connection, model.__table__, fresh, updated)
        else:
            if fresh:
                connection.execute(model.__table__.insert(), fresh)
            if updated:
                _update_sqlite(connection, model.__table__, updated)


def _update_sqlite(connection, table: Table, rows: list[dict]) -> None:
    keys = list(table.primary_key.columns)
    statement = table.update().where(*(c == bindparam(f"k_{c.name}") for c in keys)).values(
        {c.name: bindparam(f"v_{c.name}") for c in table.columns if c not in keys})
    connection.execute(statement, [{**{f"k_{c.name}": row[c.name] for c in keys},
                                    **{f"v_{c.name}": row[c.name] for c in table.columns if c not in keys}}
                                   for row in rows])


def _write_postgresql(connection, table: Table, fresh: list[dict], updated: list[dict]) -> None:
    """New rows are COPYed into the table itself (the write head keeps any other receiver from making them);
    changed ones go through a staging table and one UPDATE."""
    names = [c.name for c in table.columns]
    processors = [c.type._cached_bind_processor(connection.dialect) for c in table.columns]
    quoted = [f'"{name}"' for name in names]

    def converted(rows: list[dict]) -> Iterable[tuple]:
        return (tuple(row[name] if process is None else process(row[name]) for name, process in zip(names, processors))
                for row in rows)

    if fresh:
        copy_rows(connection, f'"{table.name}"', quoted, converted(fresh))
    if updated:
        staging = f'"stage_{table.name}"'
        connection.exec_driver_sql(f'CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS '
                                   f'SELECT * FROM "{table.name}" WITH NO DATA')
        copy_rows(connection, staging, quoted, converted(updated))
        keys = [c.name for c in table.primary_key.columns]
        connection.exec_driver_sql(f'UPDATE "{table.name}" AS t SET '
                                   + ", ".join(f'"{n}" = s."{n}"' for n in names if n not in keys)
                                   + f" FROM {staging} AS s WHERE " + " AND ".join(f't."{k}" = s."{k}"' for k in keys))
        connection.exec_driver_sql(f"DELETE FROM {staging}")


def copy_rows(connection, target: str, columns: Iterable[str], rows: Iterable[tuple]) -> None:
    """COPY `rows` (tuples of `columns`' values, as the driver takes them) into `target` (PostgreSQL), in the open
    transaction; a constraint it breaks is an IntegrityError, as from any statement."""
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.IntegrityError as exc:
        raise IntegrityError(f"COPY {target}", None, exc) from exc
    finally:
        cursor.close()


def forget(session: Session) -> None:
    session.info.pop(_KEY, None)
