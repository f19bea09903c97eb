"""Page permission rows for passbooks, the printable passbook and points cards (see linli/common/tests/matrix.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from linli.common.tests.matrix import A1_GRID, A_STAFF, Page
from linli.ledger.models import PointsCard

# a person's passbook: staff and grid workers in scope, the auditor (names masked), the person themself
PASSBOOK_READERS = A_STAFF | A1_GRID | {"auditor_a", "resident_a1"}
CARD_MANAGERS = A_STAFF | A1_GRID


def _with_card(w: SimpleNamespace) -> dict[str, Any]:
    """POST rows start with a live card for pA1, so a refused attempt can be shown to change nothing."""
    w.card = PointsCard.objects.create(community=w.A, person=w.pA1, token="matrix-card-token", issued_by=w.staff_a)
    return {}


def _card_untouched(w: SimpleNamespace) -> bool:
    return PointsCard.objects.filter(person=w.pA1, revoked_at__isnull=True).values_list("token", flat=True).get() == (
        "matrix-card-token"
    )


PAGES: list[Page] = [
    Page("ledger:my_passbook", frozenset({"resident_a1"})),
    Page("ledger:my_passbook_pdf", frozenset({"resident_a1"})),
    Page("ledger:my_card", frozenset({"resident_a1"})),
    Page("ledger:passbook", PASSBOOK_READERS, args=lambda w: [w.pA1.id]),
    Page("ledger:passbook_pdf", PASSBOOK_READERS, args=lambda w: [w.pA1.id]),
    Page("ledger:card", CARD_MANAGERS, args=lambda w: [w.pA1.id]),
    Page(
        "ledger:card_reissue",
        CARD_MANAGERS,
        method="POST",
        args=lambda w: [w.pA1.id],
        data=_with_card,
        unchanged=_card_untouched,
    ),
    Page(
        "ledger:card_revoke",
        CARD_MANAGERS,
        method="POST",
        args=lambda w: [w.pA1.id],
        data=_with_card,
        unchanged=_card_untouched,
    ),
]
