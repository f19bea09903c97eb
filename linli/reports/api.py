"""Reports API (/api/v1/reports/...): figures, dashboards' series, the street roll-up, disclosures."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["reports"])
