"""Demo data for the reports: the demo community's monthly disclosures, and the stored months behind the dashboards.

Runs after the other demos (`manage.py demo_data`), when the demo street has its months of points history
(linli/ledger/demo_history.py), orders, market and council. For the demo community (大兴东路社区) the demo staff
member (19900000002) publishes the monthly disclosure (每月公示) of each closed month that has ledger entries — the
last six at most — through `services.disclosure_publish`, which seals the ledger month and freezes the figures; so
the notice board, its QR code and the proof page can be tried at once. For every community of the demo street each
closed month is counted once and stored (`services.month_store`), so the dashboards and the street roll-up open
without counting anything.

Idempotent: the idempotency keys are fixed per month ("demo:report:<community>:<YYYY-MM>"), so a second run gets
the same disclosures back, and months already stored (in the current figures version) are not counted again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from linli.ledger.models import Transfer
from linli.org import demo
from linli.org.access import actor_for
from linli.org.models import Community, User
from linli.reports import domain, figures, selectors, services
from linli.reports.models import CommunityMonth, Disclosure

PUBLISHED_MONTHS = 6  # the notice board of the last half year


@dataclass
class ReportsDemo:
    created: bool
    published: int = 0  # disclosures published by this run
    stored: int = 0  # months counted and stored by this run
    seconds: float = 0.0


def _staff() -> User | None:
    phone = next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == "community_staff")
    return User.objects.filter(phone=phone).first()


def _closed_months(community: Community, now: datetime) -> list[date]:
    """From the month of the first ledger entry to the last month that is over (sealing grace included)."""
    first = selectors.first_month(community.pk)
    if first is None:
        return []
    last = selectors.last_closed_month(now)
    return [m for m in domain.months_between(first, last) if services.month_is_over(m, now)][-selectors.MAX_MONTHS :]


def _months_with_entries(community: Community, months: list[date]) -> list[date]:
    out = []
    for month in months:
        start, end = figures.window(month)
        if Transfer.objects.filter(community=community, created_at__gte=start, created_at__lt=end).exists():
            out.append(month)
    return out


def build_reports_demo(now: datetime | None = None) -> ReportsDemo:
    """Publish the demo community's last closed months and store every closed month of the demo street."""
    started = time.monotonic()
    now = now or timezone.now()
    home = Community.objects.filter(code=demo.DAXING_CODE).first()
    staff = _staff()
    if home is None or staff is None:
        return ReportsDemo(created=False)
    result = ReportsDemo(created=False)
    # publish first: publishing stores the month it freezes, so those months need no second count below
    actor = actor_for(staff)
    for month in _months_with_entries(home, _closed_months(home, now))[-PUBLISHED_MONTHS:]:
        published = services.disclosure_publish(
            actor=actor,
            community=home,
            month=month,
            idempotency_key=f"demo:report:{home.code}:{month:%Y-%m}",
        )
        result.published += int(published.created)
    for community in Community.objects.filter(street=home.street).order_by("id"):
        months = _closed_months(community, now)
        stored = {
            m: f.get("version")
            for m, f in CommunityMonth.objects.filter(community=community, month__in=months).values_list(
                "month", "figures"
            )
        }
        # oldest first: each stored month starts its circulation from the one before
        for month in months:
            if stored.get(month) != figures.VERSION:
                services.month_store(community.pk, month, now=now)
                result.stored += 1
    result.created = bool(result.published or result.stored)
    result.seconds = time.monotonic() - started
    return result


def published_months(community: Community) -> list[str]:
    """The months with a current disclosure, newest first (for the demo's tests and its summary)."""
    return [
        f"{m:%Y-%m}"
        for m in Disclosure.objects.filter(community=community, replaced_at__isnull=True).values_list(
            "month", flat=True
        )
    ]
