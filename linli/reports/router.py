"""Reports may read from a PostgreSQL streaming replica (DESIGN.md › Scale; issue 8 part 4).

When DATABASE_REPLICA_URL is set, settings add a "replica" database and this router sends reads there — but only
inside `replica_reads()`, which the report pages and the street roll-up enter. Everything else (every service, every
read that decides a write) stays on the primary, so nothing ever acts on a copy that lags behind. Writes always go to
the primary; migrations run only there (the replica replays them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

REPLICA = "replica"
_reading = ContextVar("linli_replica_reads", default=False)


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


def read_db() -> str:
    """The alias report queries use right now."""
    return REPLICA if _reading.get() and has_replica() else "default"


@contextmanager
def replica_reads() -> Iterator[str]:
    token = _reading.set(True)
    try:
        yield read_db()
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return REPLICA if _reading.get() and has_replica() else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db != REPLICA
