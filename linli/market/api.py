"""The points market's JSON API under /api/v1/ (tag "points market")."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["points market"])
