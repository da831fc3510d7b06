"""Set-wise inserts for bulk writes (the archive backfill): thousands of rows in a few statements.

PostgreSQL: the rows are COPYed (psycopg's copy) straight into the target, one statement whose constraints and
indexes hold as for an INSERT (a refused row fails the statement, so the caller's transaction). SQLite: one
executemany. Either way the rows go in the caller's transaction, with the columns' own conversions (enum
names, UTC times) applied as SQLAlchemy would.
"""
from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts of column values; missing columns are NULL) into `table`, in the open transaction."""
    if not rows:
        return
    columns = [column for column in table.columns if column.name in rows[0]]
    keys = [column.name for column in columns]
    # only the columns that need a conversion are converted, each with its own processor
    converted = [(position, process) for position, column in enumerate(columns)
                 if (process := column.type._cached_bind_processor(connection.dialect)) is not None]

    def values(row: dict) -> list:
        out = [row.get(key) for key in keys]
        for position, process in converted:
            out[position] = process(out[position])
        return out

    names = ", ".join(f'"{name}"' for name in keys)
    if connection.dialect.name != "postgresql":
        # the driver's executemany with the values converted once here: SQLAlchemy's per-row parameter handling
        # would cost more than the insert
        connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(keys))})',
                                   [tuple(values(row)) for row in rows])
        return
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(values(row))
    finally:
        cursor.close()


def one_of(column, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the list bound as `name`. PostgreSQL: one array parameter, since a statement of
    thousands of placeholders is parsed again by the driver at every batch; elsewhere an expanding IN."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
