"""The points demo (linli/points/demo.py): built through the services on the demo street, once, with every queue
holding something for its demo login."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from linli.ledger import selectors as ledger_reads
from linli.org import demo
from linli.org.access import actor_for
from linli.org.models import Community, User
from linli.points import selectors
from linli.points.demo import build_points_demo
from linli.points.models import Activity, ActivitySeries, Certificate, Claim, ClaimStatus, Donation, Rule

pytestmark = pytest.mark.django_db


def _user(key: str) -> User:
    return User.objects.get(phone=next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == key))


def test_points_demo_tells_the_seed_stories() -> None:
    call_command("demo_data", households=200, stdout=StringIO())
    daxing = Community.objects.get(code=demo.DAXING_CODE)
    # each community has its seed catalogue
    for community in Community.objects.filter(street__code=demo.STREET_CODE):
        assert Rule.objects.filter(community=community).count() >= 5, community
    resident = demo.demo_resident_person()
    mine = Claim.objects.filter(person=resident)
    assert set(mine.values_list("status", flat=True)) == {
        ClaimStatus.APPROVED,
        ClaimStatus.SUBMITTED,
        ClaimStatus.REJECTED,
    }
    assert mine.get(status=ClaimStatus.REJECTED).reason
    assert mine.get(status=ClaimStatus.APPROVED).points == 3
    steward, staff = actor_for(_user("building_steward")), actor_for(_user("community_staff"))
    assert selectors.verify_queue(steward, daxing).exists()
    assert selectors.approve_queue(staff, daxing).count() >= 4
    closed = Activity.objects.get(title="楼院环境卫生大扫除")
    assert closed.claims.filter(status=ClaimStatus.APPROVED).count() == 30
    assert ActivitySeries.objects.filter(title="义务理发").exists()
    assert Donation.objects.count() == 2 and Certificate.objects.count() == 1
    assert ledger_reads.person_balance(resident.pk) >= 3
    # a second run builds nothing
    before = Claim.objects.count()
    assert build_points_demo().created is False
    assert Claim.objects.count() == before
