"""Page permission rows for the merchant's voucher desk (核销) (see linli/common/tests/matrix.py).

The desk: the merchant operator for their shop, and staff (street admin, community staff of A, B, C) for vouchers in
their community. A voucher is used by its provider's operator or A's staff; the others are refused and it stays unused.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from linli.common.tests.matrix import ANY_STAFF, Page
from linli.market.models import Voucher, VoucherStatus
from linli.market.tests.matrix_resident import _voucher

DESK = ANY_STAFF | {"merchant_op_a"}
USERS_OF_A_VOUCHER = frozenset({"street_admin", "staff_a", "merchant_op_a"})


def _use_data(w: SimpleNamespace) -> dict[str, Any]:
    return {"request_key": "matrix-use", "code": Voucher.objects.get(pk=_voucher(w)).code}


def _unused(w: SimpleNamespace) -> bool:
    return Voucher.objects.filter(person=w.pA1, status=VoucherStatus.ISSUED).count() == 1


PAGES: list[Page] = [
    Page("market:voucher_desk", DESK),
    Page(
        "market:voucher_use",
        USERS_OF_A_VOUCHER,
        method="POST",
        args=lambda w: [_voucher(w)],
        data=_use_data,
        unchanged=_unused,
    ),
]
