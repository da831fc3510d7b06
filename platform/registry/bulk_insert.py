"""Set-wise inserts for bulk writes (the archive backfill): thousands of rows in a few statements.

PostgreSQL: the rows are COPYed (psycopg's copy) into a temporary staging table shaped like the target, then
moved with one INSERT … SELECT, so the target's constraints and indexes see one statement. SQLite: one
executemany. Either way the rows go in the caller's transaction, with the columns' own conversions (enum
names, UTC times) applied as SQLAlchemy would.
"""
from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts of column values; missing columns are NULL) into `table`, in the open transaction."""
    if not rows:
        return
    columns = [column for column in table.columns if any(column.name in row for row in rows[:1])]
    processors = [column.type._cached_bind_processor(connection.dialect) for column in columns]
    values = ([value if process is None else process(value)
               for value, process in zip((row.get(c.name) for c in columns), processors)] for row in rows)
    names = ", ".join(f'"{column.name}"' for column in columns)
    if connection.dialect.name != "postgresql":
        # the driver's executemany with the values converted once here: SQLAlchemy's per-row parameter handling
        # would cost more than the insert
        connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})',
                                   [tuple(row) for row in values])
        return
    staging = f'"bulk_{table.name}"'
    cursor = connection.connection.driver_connection.cursor()
    try:
        # one staging table per session and target, emptied at every commit
        # the staging table has the target's columns and types but none of its constraints (CREATE … AS)
        cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS '
                       f'SELECT * FROM "{table.name}" WITH NO DATA')
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cursor.execute(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {staging}')
        cursor.execute(f"TRUNCATE {staging}")
    finally:
        cursor.close()


def one_of(column, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the list bound as `name`. PostgreSQL: one array parameter, since a statement of
    thousands of placeholders is parsed again by the driver at every batch; elsewhere an expanding IN."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
