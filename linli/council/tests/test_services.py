"""The council's services on a real database: meetings, resolutions chased to done and rated, owners' votes from
roll to frozen result, who may do what, and races on real threads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from linli.common.errors import DomainError, Forbidden, Invalid, NotFound
from linli.council import selectors, services
from linli.council.errors import (
    BadCheckinCode,
    BallotAlreadyCast,
    CheckinRefused,
    EvaluationRefused,
    MeetingStatusRefused,
    NotOnRoll,
    ResolutionStatusRefused,
    RollIncomplete,
    TooEarlyToClose,
    VoteStatusRefused,
    VotingClosed,
)
from linli.council.models import (
    Attendance,
    Ballot,
    Meeting,
    OwnersVote,
    ResolutionStatus,
    RollEntry,
    VoteStatus,
)
from linli.council.testing import add_roof_units, make_council, make_vote
from linli.ledger.tests.test_concurrency import assert_real_database, real_db, run_threads  # noqa: F401
from linli.org.access import actor_for
from linli.org.models import Household

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return world


def act(user: Any) -> Any:
    return actor_for(user)


def meeting_data(**kw: Any) -> services.MeetingData:
    base: dict[str, Any] = {
        "title": "停车难",
        "starts_at": timezone.now() + timedelta(days=2),
        "place": "社区活动室",
        "host": "主持人",
    }
    return services.MeetingData(**(base | kw))


# --- meetings -------------------------------------------------------------------------------------------------------
def test_numbers_continue_the_paper_register_and_a_retry_plans_once(w: SimpleNamespace) -> None:
    c = make_council(w)
    staff = act(w.staff_a)
    data = meeting_data()
    m1 = services.meeting_create(actor=staff, series=c.series, data=data, idempotency_key="k1")
    again = services.meeting_plan(actor=staff, series=c.series, data=data, idempotency_key="k1")
    m2 = services.meeting_create(actor=staff, series=c.series, data=meeting_data(), idempotency_key="k2")
    assert (c.meeting.number, m1.number, m2.number) == (269, 270, 271)
    assert again.replayed and again.meeting.pk == m1.pk and Meeting.objects.filter(series=c.series).count() == 3


@pytest.mark.parametrize(
    "change",
    [{"title": "加装电梯"}, {"starts_at": "later"}, {"place": "小区广场"}, {"host": "另一位主持人"}],
)
def test_a_key_used_for_another_meeting_is_refused(w: SimpleNamespace, change: dict[str, Any]) -> None:
    c = make_council(w)
    staff = act(w.staff_a)
    data = meeting_data()
    first = services.meeting_create(actor=staff, series=c.series, data=data, idempotency_key="k1")
    if change.get("starts_at") == "later":
        change = {"starts_at": data.starts_at + timedelta(hours=1)}
    other = services.MeetingData(**(vars(data) | change))
    with pytest.raises(DomainError) as refused:
        services.meeting_create(actor=staff, series=c.series, data=other, idempotency_key="k1")
    assert refused.value.code == "idempotency_key_reused" and refused.value.status == 409
    assert list(Meeting.objects.filter(series=c.series).order_by("pk").values_list("pk", "title")) == [
        (c.meeting.pk, c.meeting.title),
        (first.pk, "停车难"),
    ]


def test_grid_workers_run_meetings_in_their_grid_only(w: SimpleNamespace) -> None:
    c = make_council(w)
    mine = services.meeting_create(actor=act(w.grid_worker_a1), series=c.series, data=meeting_data(grid=w.A1))
    assert mine.grid_id == w.A1.pk
    with pytest.raises((Forbidden, NotFound)):
        services.meeting_create(actor=act(w.grid_worker_a2), series=c.series, data=meeting_data(grid=w.A1))
    with pytest.raises((Forbidden, NotFound)):  # a community-wide meeting is staff's
        services.meeting_create(actor=act(w.grid_worker_a1), series=c.series, data=meeting_data())
    with pytest.raises(Invalid):  # a building of another community
        services.meeting_create(actor=act(w.staff_a), series=c.series, data=meeting_data(building=w.bB1))


def test_invitations_checkin_and_attendance(w: SimpleNamespace) -> None:
    c = make_council(w)
    staff = act(w.staff_a)
    meeting = services.meeting_create(
        actor=staff, series=c.series, data=meeting_data(starts_at=timezone.now() + timedelta(hours=1))
    )
    services.meeting_invite(actor=staff, meeting=meeting, kind="lawyer", name="社区律师 何律师")
    services.meeting_invite(actor=staff, meeting=meeting, kind="other", partner=w.partnerA)
    services.meeting_invite(actor=staff, meeting=meeting, kind="resident", person=w.pA1)
    with pytest.raises(Invalid):
        services.meeting_invite(actor=staff, meeting=meeting, kind="resident", person=w.pA1)
    with pytest.raises(Invalid):
        services.meeting_invite(actor=staff, meeting=meeting, kind="resident", person=w.pB1)
    kinds = sorted(meeting.invitations.values_list("kind", flat=True))
    assert kinds == ["lawyer", "partner", "resident"]

    resident = act(w.resident_a1)
    with pytest.raises(BadCheckinCode):
        services.meeting_checkin(actor=resident, meeting=meeting, code="wrong")
    first = services.meeting_checkin(actor=resident, meeting=meeting, code=meeting.checkin_code)
    second = services.meeting_checkin(actor=resident, meeting=meeting, code=meeting.checkin_code)
    assert first.pk == second.pk and first.via == "qr"
    services.attendance_record(actor=staff, meeting=meeting, person=w.pA1)  # already there: still one
    services.attendance_record(actor=staff, meeting=meeting, name="何律师", kind="lawyer")
    assert Attendance.objects.filter(meeting=meeting).count() == 2
    # a resident of another community cannot check in here
    w.pB1.user = w.staff_b  # give B's person a login for the test
    w.pB1.save()
    with pytest.raises((Forbidden, NotFound)):
        services.meeting_checkin(actor=act(w.staff_b), meeting=meeting, code=meeting.checkin_code)


def test_checkin_opens_two_hours_before(w: SimpleNamespace) -> None:
    c = make_council(w)
    later = services.meeting_create(
        actor=act(w.staff_a), series=c.series, data=meeting_data(starts_at=timezone.now() + timedelta(hours=3))
    )
    with pytest.raises(CheckinRefused):
        services.meeting_checkin(actor=act(w.resident_a1), meeting=later, code=later.checkin_code)


def test_meeting_steps(w: SimpleNamespace) -> None:
    c = make_council(w)
    staff = act(w.staff_a)
    with pytest.raises(Invalid) as e:
        services.meeting_close(actor=staff, meeting=c.meeting, report="都解决了")
    assert e.value.code == "minutes_required"
    services.meeting_minutes(actor=staff, meeting=c.meeting, minutes="到会 12 人，议题两项。")
    closed = services.meeting_close(actor=staff, meeting=c.meeting, report="议定措施两条，限期一周。")
    assert closed.status == "closed" and closed.closed_at is not None
    with pytest.raises(MeetingStatusRefused):
        services.agenda_add(
            actor=staff, meeting=closed, data=services.ItemData(title="x", kind="family", severity="blue")
        )
    planned = services.meeting_create(actor=staff, series=c.series, data=meeting_data())
    with pytest.raises(Invalid):
        services.meeting_cancel(actor=staff, meeting=planned, reason="  ")
    assert services.meeting_cancel(actor=staff, meeting=planned, reason="下雨改期").status == "cancelled"


def test_agenda_item_from_a_work_order(w: SimpleNamespace) -> None:
    from linli.orders.testing import file_order, make_orders

    c = make_council(w)
    make_orders(w)
    order = file_order(w)
    item = services.agenda_add(
        actor=act(w.staff_a),
        meeting=c.meeting,
        data=services.ItemData(title="", kind="compound", severity="red", work_order=order),
    )
    assert item.title == order.title and item.work_order_id == order.pk and item.position == 2
    with pytest.raises(Invalid):
        services.agenda_add(
            actor=act(w.staff_a),
            meeting=c.meeting,
            data=services.ItemData(title="x", kind="nonsense", severity="red"),
        )


# --- resolutions ----------------------------------------------------------------------------------------------------
def test_a_resolution_chased_to_done_and_rated(w: SimpleNamespace) -> None:
    c = make_council(w)
    r = c.resolution
    owner, supervisor, stranger = act(w.grid_worker_a1), act(w.grid_chief_a1), act(w.grid_worker_a2)
    services.resolution_chase(actor=supervisor, resolution=r, text="请本周五前给出进度")
    with pytest.raises(Forbidden):
        services.resolution_chase(actor=stranger, resolution=r, text="x")
    with pytest.raises(Forbidden):
        services.resolution_progress(actor=stranger, resolution=r, progress=10, text="x")
    r = services.resolution_progress(actor=owner, resolution=r, progress=50, text="管材已到")
    assert (r.status, r.progress) == (ResolutionStatus.IN_PROGRESS, 50)
    with pytest.raises(Invalid):
        services.resolution_progress(actor=owner, resolution=r, progress=100, text="x")
    with pytest.raises(EvaluationRefused):
        services.evaluation_give(actor=act(w.resident_a1), resolution=r, rating=5)
    r = services.resolution_done(actor=owner, resolution=r, text="管道已更换，楼下不再渗水")
    assert r.status == "done" and r.progress == 100
    c.item.refresh_from_db()
    assert c.item.solved_at is not None
    e1 = services.evaluation_give(actor=act(w.resident_a1), resolution=r, rating=3, comment="慢了点")
    e2 = services.evaluation_give(actor=act(w.resident_a1), resolution=r, rating=5)
    assert e1.pk == e2.pk and e2.rating == 5
    with pytest.raises(Invalid):
        services.evaluation_give(actor=act(w.resident_a1), resolution=r, rating=6)
    with pytest.raises((Forbidden, NotFound)):  # another community's people do not rate A's resolutions
        services.evaluation_give(actor=act(w.staff_b), resolution=r, rating=1)
    kinds = list(r.entries.values_list("kind", flat=True))
    assert kinds == ["progress", "chase", "progress", "done"]
    wall = selectors.echo_wall(w.A)
    shown = [e.kind for e in wall.get(pk=r.pk).entries.all()]
    assert "chase" not in shown and "done" in shown


def test_reopen_unsolves_and_figures_count_by_kind_and_colour(w: SimpleNamespace) -> None:
    c = make_council(w)
    staff = act(w.staff_a)
    services.resolution_done(actor=act(w.grid_worker_a1), resolution=c.resolution, text="好了")
    other = services.agenda_add(
        actor=staff, meeting=c.meeting, data=services.ItemData(title="物业停水", kind="external", severity="red")
    )
    with pytest.raises(Invalid):  # due before the meeting
        services.resolution_create(
            actor=staff, item=other, text="x", owner="物业", due_on=timezone.localdate() - timedelta(days=5)
        )
    late = services.resolution_create(
        actor=staff, item=other, text="物业三日内恢复供水", owner="物业", due_on=timezone.localdate()
    )
    f = selectors.figures(staff, w.A, today=timezone.localdate() + timedelta(days=1))
    assert (f.sessions, f.problems, f.solved) == (1, 2, 1)
    assert f.by_kind == {"family": 1, "compound": 0, "external": 0}
    assert f.by_colour == {"blue": 0, "yellow": 1, "red": 0}
    assert f.grid["external"]["red"] == 1 and f.overdue == 1 and f.done == 1 and f.done_on_time == 1
    assert [
        r.pk for r in selectors.resolutions(staff, w.A, overdue=True, today=timezone.localdate() + timedelta(1))
    ] == [late.pk]
    services.resolution_reopen(actor=staff, resolution=c.resolution, reason="又漏了")
    c.item.refresh_from_db()
    assert c.item.solved_at is None
    assert selectors.figures(staff, w.A).solved == 0
    with pytest.raises((Forbidden, NotFound)):
        selectors.figures(act(w.grid_worker_a1), w.A)  # figures are for staff, grid chiefs and auditors
    with pytest.raises(ResolutionStatusRefused):
        services.resolution_reopen(actor=staff, resolution=c.resolution, reason="again")


def test_supervisor_due_date_and_drop(w: SimpleNamespace) -> None:
    c = make_council(w)
    staff = act(w.staff_a)
    r = services.resolution_set_due(
        actor=staff, resolution=c.resolution, due_on=timezone.localdate() + timedelta(days=30), reason="等配件"
    )
    assert r.entries.filter(kind="due", public=True).exists()
    with pytest.raises(Invalid):  # a supervisor must work in the community
        services.resolution_supervise(actor=staff, resolution=r, supervisor=w.staff_b)
    services.resolution_supervise(actor=staff, resolution=r, supervisor=w.steward_a1)
    with pytest.raises((Forbidden, NotFound)):
        services.resolution_drop(actor=act(w.grid_worker_a1), resolution=r, reason="x")
    r = services.resolution_drop(actor=staff, resolution=r, reason="住户已自行解决")
    assert r.status == "dropped"
    c.item.refresh_from_db()
    assert c.item.solved_at is None  # dropped is not solved


# --- owners' votes --------------------------------------------------------------------------------------------------
def test_roll_is_frozen_with_owners_counted_as_the_law_counts_them(w: SimpleNamespace) -> None:
    add_roof_units(w)
    vote = make_vote(w)
    entries = list(RollEntry.objects.filter(vote=vote).order_by("position"))
    assert vote.status == VoteStatus.OPEN and vote.total_owners == 9 and vote.total_area == Decimal("959.50")
    wei = [e for e in entries if "卫丽娟" in e.names]
    assert len(wei) == 1 and wei[0].area == Decimal("176.40") and wei[0].units.count() == 2
    dev = [e for e in entries if e.is_developer]
    assert len(dev) == 1 and dev[0].area == Decimal("216.50") and not dev[0].owners.exists()
    wu = next(e for e in entries if "吴桂芳" in e.names)
    assert wu.owners.count() == 2 and wu.area == Decimal("75.50")
    # a later change of the register does not move the frozen roll
    Household.objects.filter(building=w.bA1, room="102").update(floor_area=Decimal("1.00"))
    vote.refresh_from_db()
    assert vote.total_area == Decimal("959.50")


def test_an_incomplete_roll_does_not_open(w: SimpleNamespace) -> None:
    add_roof_units(w)
    Household.objects.filter(building=w.bA1, room="102").update(floor_area=None)
    Household.objects.filter(building=w.bA1, room="601").update(developer_held=False)
    vote = make_vote(w, open_it=False)
    with pytest.raises(RollIncomplete) as e:
        services.vote_open(actor=act(w.staff_a), vote=vote)
    assert len(e.value.details["missing_area"]) == 1 and len(e.value.details["missing_owner"]) == 1
    vote.refresh_from_db()
    assert vote.status == VoteStatus.DRAFT and not RollEntry.objects.filter(vote=vote).exists()
    roll = selectors.roll_check(act(w.staff_a), vote)
    assert not roll.complete


def test_roof_repair_vote_of_seeds_003(w: SimpleNamespace) -> None:
    """9 owners, 959.50 m². 王秀英 agrees on her phone; 6 more agree on paper; 冯德胜 (301, 75.50 m²) refuses; the
    developer (216.50 m²) does not vote.
    Taking part: 8 of 9 owners (8/9 ≥ 2/3), 959.50 − 216.50 = 743.00 m² (743/959.5 = 77.4 % ≥ 2/3).
    Agreeing: 7 of 8 (87.5 % ≥ 3/4), 743.00 − 75.50 = 667.50 m² (667.5/743 = 89.8 % ≥ 3/4): passed (item 7)."""
    add_roof_units(w)
    vote = make_vote(w)
    staff, resident = act(w.staff_a), act(w.resident_a1)
    b = services.ballot_cast(actor=resident, vote=vote, choice="agree")
    assert services.ballot_cast(actor=resident, vote=vote, choice="agree").pk == b.pk
    with pytest.raises(BallotAlreadyCast):
        services.ballot_cast(actor=resident, vote=vote, choice="disagree")
    with pytest.raises(VoteStatusRefused):
        services.vote_update(actor=staff, vote=vote, data=_vote_data(w))
    for entry in RollEntry.objects.filter(vote=vote).exclude(pk=b.entry_id).exclude(is_developer=True):
        choice = "disagree" if "冯德胜" in entry.names else "agree"
        services.ballot_record(actor=act(w.grid_worker_a1), vote=vote, entry=entry, choice=choice)
    with pytest.raises(TooEarlyToClose):
        services.vote_close(actor=staff, vote=vote)
    vote = services.vote_close(actor=staff, vote=vote, now=vote.closes_at)
    r = vote.result
    assert vote.passed is True and r["passed"] and r["special"]
    assert (r["part_owners"], r["agree_owners"], r["disagree_owners"]) == (8, 7, 1)
    assert r["part_area"]["m2"] == "743.00" and r["agree_area"]["m2"] == "667.50"
    assert r["total_area"] == {"exact": "1919/2", "m2": "959.50"}
    assert r["agree_owners_share"]["exact"] == "7/8"
    assert r["threshold"] == {"quorum": "2/3", "majority": "3/4", "strict": False}
    assert len(r["basis"]) == 3
    assert services.vote_verify(vote).ok
    with pytest.raises(VoteStatusRefused):
        services.ballot_cast(actor=resident, vote=vote, choice="agree")
    # tampering with a counted ballot after the close is found
    Ballot.objects.filter(vote=vote, entry__names__contains="冯德胜").update(choice="agree")
    check = services.vote_verify(vote)
    assert not check.ok and "digest" in check.problems


def _vote_data(w: SimpleNamespace, **kw: Any) -> services.VoteData:
    base: dict[str, Any] = {
        "title": "t",
        "proposal": "p",
        "matter": "rebuild",
        "closes_at": timezone.now() + timedelta(days=3),
        "building": w.bA1,
    }
    return services.VoteData(**(base | kw))


def test_the_same_ballots_fail_for_a_special_matter_that_pass_an_ordinary_one(w: SimpleNamespace) -> None:
    """5 of 8 taking part agree (62.5 %): enough to use the fund (> 1/2), not to alter the building (≥ 3/4)."""
    add_roof_units(w)
    results = {}
    for matter in ("fund_use", "rebuild"):
        vote = make_vote(w, matter=matter)
        entries = list(RollEntry.objects.filter(vote=vote, is_developer=False).order_by("position"))
        for i, entry in enumerate(entries):
            services.ballot_record(
                actor=act(w.staff_a), vote=vote, entry=entry, choice="agree" if i < 5 else "disagree"
            )
        results[matter] = services.vote_close(actor=act(w.staff_a), vote=vote, now=vote.closes_at).passed
    # area check: agree = the first five owners by position; with these units both area shares stay above 1/2
    assert results == {"fund_use": True, "rebuild": False}


def test_who_may_do_what_with_a_vote(w: SimpleNamespace) -> None:
    add_roof_units(w)
    vote = make_vote(w, open_it=False)
    with pytest.raises((Forbidden, NotFound)):
        services.vote_open(actor=act(w.grid_worker_a1), vote=vote)
    with pytest.raises((Forbidden, NotFound)):
        services.vote_create(actor=act(w.staff_b), community=w.A, data=_vote_data(w))
    with pytest.raises(Invalid):
        services.vote_create(actor=act(w.staff_a), community=w.A, data=_vote_data(w, compound=w.cpA))
    with pytest.raises(Invalid):
        services.vote_create(actor=act(w.staff_a), community=w.A, data=_vote_data(w, matter="item10"))
    services.vote_open(actor=act(w.staff_a), vote=vote)
    entry = RollEntry.objects.filter(vote=vote).first()
    assert entry is not None
    with pytest.raises((Forbidden, NotFound)):  # grid worker of another grid
        services.ballot_record(actor=act(w.grid_worker_a2), vote=vote, entry=entry, choice="agree")
    with pytest.raises(NotOnRoll):  # a resident who owns nothing in 1号楼
        pA2 = w.pA2
        pA2.user = w.grid_worker_a2
        pA2.save()
        services.ballot_cast(actor=act(w.grid_worker_a2), vote=vote, choice="agree")
    # visibility: the owner sees the vote; the steward of the building too; staff of B not
    assert selectors.may_see_vote(act(w.resident_a1), vote)
    assert selectors.may_see_vote(act(w.steward_a1), vote)
    assert not selectors.may_see_vote(act(w.staff_b), vote)
    assert [v.pk for v in selectors.votes(act(w.resident_a1), w.A)] == [vote.pk]
    assert list(selectors.my_open_votes(act(w.resident_a1))) == [vote]


def test_void_and_record_again_and_the_closing_time(w: SimpleNamespace) -> None:
    add_roof_units(w)
    vote = make_vote(w)
    staff = act(w.staff_a)
    entry = RollEntry.objects.filter(vote=vote).order_by("position").first()
    assert entry is not None
    wrong = services.ballot_record(actor=staff, vote=vote, entry=entry, choice="disagree")
    with pytest.raises(Invalid):
        services.ballot_void(actor=staff, ballot=wrong, reason="")
    services.ballot_void(actor=staff, ballot=wrong, reason="录入错误，纸质票为同意")
    right = services.ballot_record(actor=staff, vote=vote, entry=entry, choice="agree", channel="meeting")
    assert right.pk != wrong.pk and Ballot.objects.filter(vote=vote, voided_at__isnull=True).count() == 1
    with pytest.raises(Invalid):
        services.ballot_record(actor=staff, vote=vote, entry=entry, choice="agree", channel="phone")
    with pytest.raises(VotingClosed):
        services.ballot_cast(actor=act(w.resident_a1), vote=vote, choice="agree", now=vote.closes_at)
    closed = services.votes_sweep(now=vote.closes_at + timedelta(seconds=1))
    vote.refresh_from_db()
    assert closed.closed == 1 and vote.status == VoteStatus.CLOSED and vote.passed is False
    assert services.vote_verify(vote).ok


def test_cancel_and_errors_are_domain_errors(w: SimpleNamespace) -> None:
    add_roof_units(w)
    vote = make_vote(w, open_it=False)
    with pytest.raises(Invalid):
        services.vote_open(actor=act(w.staff_a), vote=OwnersVote.objects.get(pk=vote.pk), now=vote.closes_at)
    cancelled = services.vote_cancel(actor=act(w.staff_a), vote=vote, reason="改为业主大会表决")
    assert cancelled.status == VoteStatus.CANCELLED
    with pytest.raises(DomainError):
        services.vote_open(actor=act(w.staff_a), vote=cancelled)


# --- races on real threads ------------------------------------------------------------------------------------------
def test_ten_taps_of_two_choices_count_one_ballot(real_db: None) -> None:  # noqa: F811
    from linli.common.testing import make_world

    assert_real_database()
    w = make_world()
    add_roof_units(w)
    vote = make_vote(w)
    resident = act(w.resident_a1)

    def tap(i: int) -> str:
        try:
            return services.ballot_cast(actor=resident, vote=vote, choice="agree" if i % 2 else "disagree").choice
        except BallotAlreadyCast:
            return "refused"

    results = run_threads(10, tap)
    assert all(kind == "ok" for kind, _ in results), results
    answers = [value for _, value in results]
    counted = list(Ballot.objects.filter(vote=vote, voided_at__isnull=True))
    assert len(counted) == 1
    winner = counted[0].choice
    assert answers.count(winner) == 5 and answers.count("refused") == 5


def test_concurrent_plans_take_consecutive_numbers(real_db: None) -> None:  # noqa: F811
    from linli.common.testing import make_world

    assert_real_database()
    w = make_world()
    c = make_council(w)
    staff = act(w.staff_a)
    results = run_threads(
        8, lambda i: services.meeting_create(actor=staff, series=c.series, data=meeting_data()).number
    )
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(value for _, value in results) == list(range(270, 278))
