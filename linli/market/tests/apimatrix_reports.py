"""Who may call the market's figures and settlement API (merged by tests/test_api_permissions.py).

Figures of community A (market.report): A's staff, the street admin, the auditor and A1's grid chief. The settlement
of A's barber mA (settlement.view on the merchant): A's staff, the street admin, the auditor and mA's operator; the
summary of every merchant of A: the same without the operator, who sees only their own shop.
"""

from __future__ import annotations

from linli.org.tests.test_api_permissions import Op, Request, allow

FIGURES_A = allow("street_admin", "staff_a", "auditor_a", "grid_chief_a1")
SETTLEMENT_MA = allow("street_admin", "staff_a", "auditor_a", "merchant_op_a")
SUMMARY_A = allow("street_admin", "staff_a", "auditor_a")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/market/reports/figures"): FIGURES_A,
    ("GET", "/market/reports/settlement"): SETTLEMENT_MA,
    ("GET", "/market/reports/settlements"): SUMMARY_A,
}

REQUESTS: dict[Op, Request] = {
    ("GET", "/market/reports/figures"): lambda w: (f"/market/reports/figures?community={w.A.id}", None),
    ("GET", "/market/reports/settlement"): lambda w: (f"/market/reports/settlement?merchant={w.mA.id}", None),
    ("GET", "/market/reports/settlements"): lambda w: (f"/market/reports/settlements?community={w.A.id}", None),
}
