"""Alembic environment: the registry's SQLModel metadata, URL from FSP_DATABASE_URL."""
import os

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

import registry.models  # noqa: F401  (registers every table on SQLModel.metadata)
from registry.db import explicit_sqlite_transactions
from registry.national.models import NATIONAL_CASES_PARTITIONS, national_cases_partition

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging_config"):
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)

# an explicit URL (-x url=..., or set by the code that calls Alembic) wins over the environment
url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url") \
    or os.environ.get("FSP_DATABASE_URL")
if not url:
    raise SystemExit("set FSP_DATABASE_URL (or pass -x url=...) to the tenant's database URL")

target_metadata = SQLModel.metadata
# the partitions of a partitioned table are the database's business, not the models' (their parent is compared)
PARTITIONS = {national_cases_partition(remainder) for remainder in range(NATIONAL_CASES_PARTITIONS)}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and reflected and compare_to is None and name in PARTITIONS)


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, compare_type=True,
                      render_as_batch=url.startswith("sqlite"), include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
        if engine.dialect.name == "sqlite":  # one transaction for the whole upgrade, as on PostgreSQL
            explicit_sqlite_transactions(engine)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite", include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
