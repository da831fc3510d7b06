"""PostgreSQL names for the infra tests: unique per test, and dropped afterwards whatever the test did."""
import os
import secrets
from collections.abc import Callable, Iterator

import pytest

from infra.ensure.database import drop_postgres_database


@pytest.fixture
def pg_names(pg_admin_url: str) -> Iterator[Callable[[str], str]]:
    """`pg_names("a")` → a fresh name for a database and its role, used as both; all dropped after the test."""
    made: list[str] = []

    def new(label: str) -> str:
        name = f"fsp_it_{label}_{os.getpid()}_{secrets.token_hex(4)}"
        made.append(name)
        return name

    yield new
    for name in made:
        drop_postgres_database(pg_admin_url, database=name, role=name)
