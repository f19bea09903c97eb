"""The council demo (linli/council/demo.py) on the demo street: built through the services, once, quickly; the figures
of SEEDS 002 come out of its rows, the roof-repair vote of SEEDS 003 passed and verifies, and the demo resident has a
ballot waiting on her phone."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from linli.council import selectors, services
from linli.council.demo import CONSULTATION, SERIES, SERIES_FIRST, build_council_demo, demo_figures
from linli.council.models import (
    AgendaItem,
    Attendance,
    Ballot,
    BallotChannel,
    CheckinVia,
    Evaluation,
    Invitation,
    Matter,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    OwnersVote,
    PartyKind,
    Resolution,
    ResolutionEntry,
    ResolutionStatus,
    RollEntry,
    RollOwner,
    VoteStatus,
)
from linli.orders.demo import build_orders_demo
from linli.org import demo
from linli.org.access import actor_for
from linli.org.models import Community, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def street() -> Community:
    demo.build_demo(households=200)
    build_orders_demo()  # agenda items are brought from its work orders
    return Community.objects.get(code=demo.DAXING_CODE)


def test_council_demo_builds_once_with_its_stories(street: Community) -> None:
    started = time.monotonic()
    result = build_council_demo()
    seconds = time.monotonic() - started
    assert result.created and seconds < 10, seconds
    assert result.meetings == Meeting.objects.filter(community=street).count() == 10
    # a second run builds nothing and changes nothing
    before = demo_figures(street)
    again = build_council_demo()
    assert again.created is False
    assert demo_figures(street) == before
    assert MeetingSeries.objects.filter(community=street, name=SERIES).count() == 1

    series = MeetingSeries.objects.get(community=street, name=SERIES)
    talks = Meeting.objects.filter(series=series).order_by("number")
    assert [m.number for m in talks] == list(range(SERIES_FIRST, SERIES_FIRST + 8))
    statuses = [m.status for m in talks]
    assert statuses.count(MeetingStatus.CLOSED) == 5
    assert statuses.count(MeetingStatus.HELD) == statuses.count(MeetingStatus.CANCELLED) == 1
    planned = talks.get(status=MeetingStatus.PLANNED)
    assert planned.starts_at > timezone.now() and planned.starts_at - timezone.now() < timedelta(days=8)
    assert all(m.minutes and m.report for m in talks.filter(status=MeetingStatus.CLOSED))
    assert all(m.starts_at < timezone.now() for m in talks.exclude(status=MeetingStatus.PLANNED))
    assert Meeting.objects.filter(series__name=CONSULTATION, community=street).count() == 2
    # invitations name the lawyer, the property company and a partner unit; most came by QR, some by staff
    kinds = set(Invitation.objects.filter(community=street).values_list("kind", flat=True))
    assert {PartyKind.LAWYER, PartyKind.PROPERTY, PartyKind.PARTNER, PartyKind.RESIDENT} <= kinds
    via = Attendance.objects.filter(community=street)
    assert via.filter(via=CheckinVia.QR).count() > via.filter(via=CheckinVia.STAFF).count() > 0
    assert AgendaItem.objects.filter(community=street, work_order__isnull=False).count() >= 3

    # resolutions: most done, two in progress, one overdue; ratings on the done ones only
    res = Resolution.objects.filter(community=street)
    today = timezone.localdate()
    done = res.filter(status=ResolutionStatus.DONE)
    assert done.count() > res.count() / 2
    overdue = res.filter(status__in=["open", "in_progress"], due_on__lt=today)
    assert overdue.count() == 1 and overdue.get().last_chased_at is not None
    assert res.filter(status=ResolutionStatus.IN_PROGRESS, due_on__gte=today).count() == 2
    assert set(Evaluation.objects.filter(community=street).values_list("resolution__status", flat=True)) == {"done"}
    assert done.filter(evaluations__isnull=True).count() == 0
    assert not res.filter(done_at__gt=timezone.now()).exists()
    assert not ResolutionEntry.objects.filter(community=street, at__gt=timezone.now()).exists()
    echo = selectors.echo_wall(street)
    assert echo.exists()
    assert ResolutionEntry.objects.filter(community=street, kind="reply", public=True).count() >= 5

    # the figures of SEEDS 002, straight from the data: every kind and colour has solved problems
    staff = actor_for(User.objects.get(phone="19900000002"))
    figures = selectors.figures(staff, street)
    assert figures.sessions == 8
    assert all(n > 0 for n in figures.by_kind.values()), figures.by_kind
    assert all(n > 0 for n in figures.by_colour.values()), figures.by_colour
    assert figures.overdue == 1 and figures.rating_count > 0 and 3 <= (figures.rating_avg or 0) <= 5

    # SEEDS 003: the roof repair, item 7 of art. 278 (three quarters): closed, passed with one owner against
    roof = OwnersVote.objects.get(community=street, matter=Matter.REBUILD)
    assert roof.status == VoteStatus.CLOSED and roof.passed is True
    assert roof.building is not None and roof.building.name == "2号楼"
    assert services.vote_verify(roof).ok, services.vote_verify(roof).problems
    assert roof.result["disagree_owners"] == 1 and roof.result["special"] is True
    developer = RollEntry.objects.get(vote=roof, is_developer=True)
    assert developer.units.count() == 2  # the developer's two undelivered units: one owner
    assert roof.closed_at is not None and roof.closed_at < timezone.now()
    assert set(Ballot.objects.filter(vote=roof).values_list("channel", flat=True)) >= {BallotChannel.PAPER}

    # the gate-lock vote: open, item 5, and the demo resident on its roll without a ballot yet
    gate = OwnersVote.objects.get(community=street, matter=Matter.FUND_USE)
    assert gate.status == VoteStatus.OPEN and gate.compound is not None and gate.closes_at > timezone.now()
    resident = demo.demo_resident_person()
    assert resident.name == "林秀兰"
    assert RollOwner.objects.filter(entry__vote=gate, person=resident).exists()
    me = actor_for(resident.user)
    assert selectors.my_entry(me, gate) is not None and selectors.my_ballot(me, gate) is None
    assert gate in selectors.my_open_votes(me)
    counted = Ballot.objects.filter(vote=gate, voided_at__isnull=True).count()
    assert 0 < counted < (gate.total_owners or 0)
    ballot = services.ballot_cast(actor=me, vote=gate, choice="agree")  # the demo's phone ballot works
    assert ballot.channel == BallotChannel.PHONE


def test_council_demo_names_come_from_the_pools(street: Community) -> None:
    build_council_demo()
    names: set[str] = set(Meeting.objects.filter(community=street).values_list("host", flat=True))
    names |= set(Attendance.objects.filter(community=street).values_list("name", flat=True))
    people = [PartyKind.RESIDENT, PartyKind.LAWYER, PartyKind.PROPERTY, PartyKind.STAFF, PartyKind.GRID]
    names |= set(Invitation.objects.filter(community=street, kind__in=people).values_list("name", flat=True))
    for joined in RollEntry.objects.filter(community=street).exclude(names="").values_list("names", flat=True):
        names |= set(joined.split("、"))
    names |= set(Evaluation.objects.filter(community=street).values_list("person__name", flat=True))
    assert len(names) > 30
    invented = [n for n in names if not demo.is_pool_name(n)]
    assert not invented, invented[:5]
