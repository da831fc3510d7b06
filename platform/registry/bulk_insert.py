"""Set-wise inserts for bulk writes (the archive backfill): thousands of rows in a few statements.

PostgreSQL: the rows are COPYed (psycopg's copy) into a temporary staging table shaped like the target, then
moved with one INSERT … SELECT, so the target's constraints and indexes see one statement. SQLite: one
executemany. Either way the rows go in the caller's transaction, with the columns' own conversions (enum
names, UTC times) applied as SQLAlchemy would.
"""
from sqlalchemy import Connection, Table, insert


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts of column values; missing columns are NULL) into `table`, in the open transaction."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = [column for column in table.columns if any(column.name in row for row in rows[:1])]
    processors = [column.type._cached_bind_processor(connection.dialect) for column in columns]
    names = ", ".join(f'"{column.name}"' for column in columns)
    staging = f'"bulk_{table.name}"'
    cursor = connection.connection.driver_connection.cursor()
    try:
        # one staging table per session and target, emptied at every commit
        # the staging table has the target's columns and types but none of its constraints (CREATE … AS)
        cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS '
                       f'SELECT * FROM "{table.name}" WITH NO DATA')
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value if process is None else process(value)
                                for value, process in zip((row.get(c.name) for c in columns), processors)])
        cursor.execute(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {staging}')
        cursor.execute(f"TRUNCATE {staging}")
    finally:
        cursor.close()
