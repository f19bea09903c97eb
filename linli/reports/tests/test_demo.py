"""The reports demo (linli/reports/demo.py) on the demo street with its points history: the demo community's closed
months published by the demo staff member — seals that are the ledger's, digests that are the figures' — every closed
month stored for the dashboards, quickly, and a second run changes nothing."""

from __future__ import annotations

import itertools
import time

import pytest
from django.test import Client
from django.utils import timezone

from linli.ledger import demo_history
from linli.ledger.models import Seal, Transfer
from linli.org import demo
from linli.org.models import Community, User
from linli.reports import domain, figures, selectors, services
from linli.reports.api import public_url
from linli.reports.demo import PUBLISHED_MONTHS, build_reports_demo, published_months
from linli.reports.models import CommunityMonth, Disclosure

pytestmark = pytest.mark.django_db


@pytest.fixture
def street() -> Community:
    demo.build_demo(households=200)
    assert demo_history.build_history().created
    return Community.objects.get(code=demo.DAXING_CODE)


def test_reports_demo_publishes_the_closed_months(street: Community) -> None:
    started = time.monotonic()
    result = build_reports_demo()
    seconds = time.monotonic() - started
    assert result.created and seconds < 20, seconds

    now = timezone.now()
    last = selectors.last_closed_month(now)
    first = selectors.first_month(street.pk)
    assert first is not None
    # within a few minutes of a month's end (the sealing grace) the month before is not closed yet
    closed = [m for m in domain.months_between(first, last) if services.month_is_over(m, now)]
    with_entries = [
        m
        for m in closed
        if Transfer.objects.filter(
            community=street, created_at__gte=figures.window(m)[0], created_at__lt=figures.window(m)[1]
        ).exists()
    ]
    expected = [f"{m:%Y-%m}" for m in reversed(with_entries[-PUBLISHED_MONTHS:])]
    assert len(expected) >= 5  # about six months of history
    assert published_months(street) == expected and result.published == len(expected)

    newest = with_entries[-1]
    assert newest == last or not services.month_is_over(last, now)  # the demo history runs up to today
    # the last closed month: published by the demo staff member, its seal the ledger's, its digest the figures'
    d = Disclosure.objects.get(community=street, month=newest, replaced_at__isnull=True)
    staff = User.objects.get(phone="19900000002")
    assert d.published_by == staff and d.revision == 1
    seal = Seal.objects.get(community=street, month=f"{newest:%Y-%m}")
    assert d.seal == seal and d.figures["seal"]["root"] == seal.merkle_root
    assert seal.transfer_count == d.figures["points"]["transfers"] > 0
    assert d.digest == domain.digest(d.figures)
    assert d.figures["points"]["earned"] > 0 and d.figures["volunteers"] > 0

    # every closed month of every community of the street is stored for the dashboards
    for community in Community.objects.filter(street=street.street):
        start = selectors.first_month(community.pk)
        months = {m for m in domain.months_between(start, last) if services.month_is_over(m, now)} if start else set()
        stored = set(CommunityMonth.objects.filter(community=community).values_list("month", flat=True))
        assert stored == months, community.code
    # stored months chain: each starts where the one before ended
    rows = list(CommunityMonth.objects.filter(community=street).order_by("month").values_list("figures", flat=True))
    for before, after in itertools.pairwise(rows):
        assert after["points"]["circulation_start"] == before["points"]["circulation_end"]

    # the public notice and the API's echo of it
    api = Client().get(f"/api/v1/reports/public/{street.code}/{newest:%Y-%m}")
    assert api.status_code == 200 and api.json()["digest"] == d.digest
    page = Client().get(public_url(street.code, newest))
    assert page.status_code == 200 and seal.merkle_root[:8] in page.content.decode()

    # a second run publishes and counts nothing, and changes nothing
    before = list(Disclosure.objects.order_by("pk").values_list("pk", "digest"))
    again = build_reports_demo()
    assert again.created is False and again.published == again.stored == 0
    assert list(Disclosure.objects.order_by("pk").values_list("pk", "digest")) == before
