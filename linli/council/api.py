"""The council over JSON (tag "council"): meetings, agenda, attendance, resolutions, owners' votes."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["council"])
