"""Fresh PostgreSQL databases for the tests, made once and emptied for the next test rather than made again.

`CREATE DATABASE ... TEMPLATE` costs about half a second of server CPU here (a migrated registry is some 350
relations, each copied through the WAL), and `TRUNCATE` of every table as much (a new file per relation). A
test's rows are few, so deleting them costs milliseconds. After a test, its database is taken back only when
it is, but for its rows, the template again:

- nobody else is connected to it and no prepared transaction names it;
- its schema is the template's: no catalog row (tables, columns, indexes, constraints, types, functions,
  grants, schemas, the database's own row and settings) was written or removed since it was handed out;

then every table is emptied (children first), the template's own rows (the Alembic revision, seeded rows) are
put back and every sequence is set to where the template had it. Otherwise it is dropped, as before.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

STILL_ENDING_SECONDS = 1.0
# per-database catalogs a test's DDL writes to; counted (a DROP leaves no newer row) and checked for newer rows
_CATALOGS = ("pg_class", "pg_attribute", "pg_attrdef", "pg_constraint", "pg_index", "pg_type", "pg_proc",
             "pg_namespace", "pg_trigger", "pg_rewrite", "pg_policy", "pg_extension", "pg_enum", "pg_sequence",
             "pg_default_acl", "pg_inherits", "pg_statistic_ext", "pg_publication", "pg_collation", "pg_cast",
             "pg_operator", "pg_event_trigger")


@dataclass
class Template:
    """What a copy of the template holds besides its empty tables, learnt once per session."""

    name: str
    tables: list[str]  # children before parents: the order rows can be deleted in
    seeds: dict[str, bytes]  # table → its rows (COPY text format)
    sequences: dict[str, tuple[int, bool]]  # sequence → (last_value, is_called)
    catalog_counts: dict[str, int]
    settings_count: int


@dataclass
class Recycler:
    """Clean copies of the template kept for the next test of this process (its own: xdist workers each have one)."""

    admin: psycopg.Connection
    libpq_url: str  # the server, any database: a copy's own URL is this with its name
    template: Template
    clean: list[str] = field(default_factory=list)
    since: dict[str, str] = field(default_factory=dict)  # database → the xid handed out at

    def take(self) -> str | None:
        """A clean copy's name, marked as handed out now; None if none is kept."""
        if not self.clean:
            return None
        name = self.clean.pop()
        self.handed_out(name)
        return name

    def handed_out(self, name: str) -> None:
        self.since[name] = str(self.admin.execute("SELECT txid_current() % 4294967296").fetchone()[0])

    def give_back(self, name: str) -> bool:
        """Empty the copy and keep it, if it is the template but for its rows; False if it must be dropped."""
        since = self.since.pop(name, None)
        if since is None or self._in_use(name):
            return False
        try:
            with psycopg.connect(self.libpq_url, dbname=name, autocommit=True) as connection:
                if not self._same_schema(connection, since):
                    return False
                self._empty(connection)
        except psycopg.Error:
            return False
        self.clean.append(name)
        return True

    def _in_use(self, name: str) -> bool:
        # a test's connections closed a moment ago may still be ending
        deadline = time.monotonic() + STILL_ENDING_SECONDS
        while self._connected(name):
            if time.monotonic() > deadline:
                return True
            time.sleep(0.02)
        return False

    def _connected(self, name: str) -> bool:
        return bool(self.admin.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = %(n)s AND backend_type = 'client backend')"
            " OR EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = %(n)s)", {"n": name}).fetchone()[0])

    def _same_schema(self, connection: psycopg.Connection, since: str) -> bool:
        counts, newer = catalog_state(connection, since)
        return counts == self.template.catalog_counts and not newer and self._database_row_untouched(
            connection, since)

    def _database_row_untouched(self, connection: psycopg.Connection, since: str) -> bool:
        count, newer = connection.execute(
            "SELECT (SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
            "        WHERE d.datname = current_database()),"
            "       EXISTS (SELECT 1 FROM pg_database WHERE datname = current_database()"
            "               AND age(xmin) < age(%(since)s::xid))"
            "    OR EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
            "               WHERE d.datname = current_database() AND age(s.xmin) < age(%(since)s::xid))",
            {"since": since}).fetchone()
        return count == self.template.settings_count and not newer

    def _empty(self, connection: psycopg.Connection) -> None:
        with connection.transaction():
            for table in self.template.tables:
                connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            for table, rows in self.template.seeds.items():
                with connection.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as copy:
                    copy.write(rows)
            for sequence, (value, called) in self.template.sequences.items():
                connection.execute("SELECT setval(%s::regclass, %s, %s)", (sequence, value, called))


def catalog_state(connection: psycopg.Connection, since: str = "3") -> tuple[dict[str, int], bool]:
    """Each catalog's row count, and whether any row is newer than the transaction `since`."""
    counts = sql.SQL(", ").join(sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(c)) for c in _CATALOGS)
    newer = sql.SQL(" OR ").join(
        sql.SQL("EXISTS (SELECT 1 FROM {} WHERE age(xmin) < age({}::xid))").format(sql.Identifier(c),
                                                                                   sql.Literal(since))
        for c in _CATALOGS)
    row = connection.execute(sql.SQL("SELECT {}, {}").format(counts, newer)).fetchone()
    return dict(zip(_CATALOGS, row[:-1], strict=True)), bool(row[-1])


def learn_template(connection: psycopg.Connection, name: str) -> Template:
    """The template's tables in deletion order, its rows, its sequences and its catalog, read from `connection`."""
    # a partitioned table is emptied (and filled) as a whole, through its parent
    tables = [row[0] for row in connection.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
        " AND NOT relispartition ORDER BY relname")]
    parents: dict[str, set[str]] = {table: set() for table in tables}
    for child, parent in connection.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"):
        if child != parent and child in parents:
            parents[child].add(parent)
    seeds = {}
    for table in tables:
        buffer = io.BytesIO()
        with connection.cursor().copy(sql.SQL("COPY (SELECT * FROM {}) TO STDOUT").format(sql.Identifier(table))) as copy:
            for block in copy:
                buffer.write(block)
        if buffer.getvalue():
            seeds[table] = buffer.getvalue()
    sequences = {}
    for (sequence,) in connection.execute(
            "SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"):
        value, called = connection.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
            sql.Identifier(sequence.strip('"')))).fetchone()
        sequences[sequence] = (value, called)
    settings_count = connection.execute(
        "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
        " WHERE d.datname = current_database()").fetchone()[0]
    return Template(name=name, tables=_children_first(parents), seeds=seeds, sequences=sequences,
                    catalog_counts=catalog_state(connection)[0], settings_count=settings_count)


def _children_first(parents: dict[str, set[str]]) -> list[str]:
    """Tables ordered so that each comes before every table it references (a cycle cannot be emptied so)."""
    order: list[str] = []
    children: dict[str, set[str]] = {table: set() for table in parents}
    for child, its_parents in parents.items():
        for parent in its_parents:
            children[parent].add(child)
    placed: set[str] = set()
    while len(placed) < len(parents):
        ready = sorted(t for t in parents if t not in placed and children[t] <= placed)
        if not ready:
            raise RuntimeError(f"foreign keys in a cycle among {sorted(set(parents) - placed)}")
        order.extend(ready)
        placed.update(ready)
    return order
