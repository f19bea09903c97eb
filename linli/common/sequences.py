"""Gapless numbers (certificate 2026-0007, work order 2026-0042) from a counter row per key."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from linli.common.errors import Conflict


def next_number(counter: type[models.Model], **key: Any) -> int:
    """The next number for `key` (e.g. community and year). Call inside the caller's transaction: UPDATE … SET
    last = last + 1 holds the counter row's lock until that transaction ends, so concurrent callers queue for it and a
    rolled-back caller leaves no gap; the first caller of a key creates the row. `counter` has the key fields and
    an integer `last`."""
    for _attempt in range(3):
        rows = counter._default_manager.filter(**key)
        if rows.update(last=F("last") + 1):
            return int(rows.values_list("last", flat=True).get())
        try:
            with transaction.atomic():
                counter._default_manager.create(**key, last=1)
            return 1
        except IntegrityError:
            continue  # another caller created it first: increment theirs
    raise Conflict(_("Please try again."), code="number_busy")
