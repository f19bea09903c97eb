"""Page permission rows for the market's figures and the merchants' settlements (see linli/common/tests/matrix.py).

Figures of community A (market.report): A's staff, the street admin, the auditor and A1's grid chief (the shelf is
the community's). The settlement of A's barber (settlement.view on the merchant): A's staff, the street admin, the
auditor and the barber's own operator. The summary of every merchant of A: the same without the operator.
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A_STAFF, Page, in_a

FIGURES_A = A_STAFF | {"auditor_a", "grid_chief_a1"}
SETTLEMENT_MA = A_STAFF | {"auditor_a", "merchant_op_a"}


def barber(w: SimpleNamespace) -> str:
    return f"merchant={w.mA.id}"


PAGES: list[Page] = [
    Page("market:reports", FIGURES_A, query=in_a),
    Page("market:reports_export", FIGURES_A, query=in_a),
    Page("market:settlement", SETTLEMENT_MA, query=barber),
    Page("market:settlement", A_STAFF | {"auditor_a"}, query=in_a),
    Page("market:settlement_export", SETTLEMENT_MA, query=barber),
    Page("market:settlement_export", A_STAFF | {"auditor_a"}, query=in_a),
]
