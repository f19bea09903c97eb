"""Gapless numbers (certificate 2026-0007, work order 2026-0042) from a counter row per key."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils.translation import gettext as _

from linli.common.errors import Conflict


def next_number(counter: type[models.Model], **key: Any) -> int:
    """The next number for `key` (e.g. community and year). Call inside the caller's transaction: UPDATE … SET
    last = last + 1 holds the counter row's lock until that transaction ends, so concurrent callers queue for it and a
    rolled-back caller leaves no gap; the first caller of a key creates the row. `counter` has the key fields and
    an integer `last`."""
    for _attempt in range(3):
        taken = _increment(counter, key)
        if taken is not None:
            return taken
        try:
            with transaction.atomic():
                counter._default_manager.create(**key, last=1)
            return 1
        except IntegrityError:
            continue  # another caller created it first: increment theirs
    raise Conflict(_("Please try again."), code="number_busy")


def _increment(counter: type[models.Model], key: dict[str, Any]) -> int | None:
    """UPDATE … RETURNING: the increment and its result in one statement (both SQLite ≥ 3.35 and PostgreSQL), where
    the ORM needs an UPDATE and a SELECT — the counter row is hot (every redemption at the counter takes one)."""
    meta = counter._meta
    columns, values = [], []
    for name, value in key.items():
        columns.append(_column(counter, name))
        values.append(value.pk if isinstance(value, models.Model) else value)
    table = connection.ops.quote_name(meta.db_table)
    last = _column(counter, "last")
    where = " AND ".join(f"{c} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {last} = {last} + 1 WHERE {where} RETURNING {last}", values)  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column  # a concrete field of the counter, not a relation
    return connection.ops.quote_name(field.column)
