"""Activities: recurring dates, sign-up with a waiting list (also under real concurrency), QR check-in/out, marked
attendance, and turning attendance into claims exactly once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from django.core import signing
from django.core.management import call_command
from django.utils import timezone

from linli.common.errors import DomainError, Forbidden, Invalid, NotFound
from linli.ledger import selectors as ledger_reads
from linli.ledger import services as ledger
from linli.ledger.tests.test_concurrency import real_db, run_threads  # noqa: F401  (fixture)
from linli.org.access import actor_for
from linli.org.models import Person, Role, RoleAssignment
from linli.points import activities as act
from linli.points import domain_activities as da
from linli.points import services
from linli.points.activities import ActivityData, SeriesData
from linli.points.models import Activity, ActivityStatus, Attendance, Claim, ClaimStatus, Signup, SignupStatus
from linli.points.testing import make_catalogue
from linli.points.testing_activities import make_activity, past_activity, residents


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def balance(person: Person) -> int:
    return ledger_reads.balance(ledger.account_for_person(person))


# --- pure rules -------------------------------------------------------------------------------------------------------
def test_rrule_choices() -> None:
    assert da.build_rrule("weekly", weekday=2) == "FREQ=WEEKLY;BYDAY=WE"
    assert da.build_rrule("monthly_weekday", weekday=0, nth=1) == "FREQ=MONTHLY;BYDAY=+1MO"
    assert da.build_rrule("monthly_weekday", weekday=4, nth=-1) == "FREQ=MONTHLY;BYDAY=-1FR"
    assert da.build_rrule("monthly_day", day=15) == "FREQ=MONTHLY;BYMONTHDAY=15"
    for bad in (
        {"repeat": "weekly", "weekday": 7},
        {"repeat": "monthly_weekday", "weekday": 0, "nth": 5},
        {"repeat": "monthly_day", "day": 31},
        {"repeat": "daily"},
    ):
        with pytest.raises(ValueError):
            da.build_rrule(**bad)


def test_first_monday_of_every_month() -> None:
    rule = da.build_rrule("monthly_weekday", weekday=0, nth=1)
    days = da.occurrence_dates(
        rule, first=date(2026, 1, 1), last=None, since=date(2026, 1, 10), until=date(2026, 4, 30)
    )
    assert days == [date(2026, 2, 2), date(2026, 3, 2), date(2026, 4, 6)]
    assert all(d.weekday() == 0 and d.day <= 7 for d in days)
    # the last day caps it; nothing before the first day
    assert da.occurrence_dates(
        rule, first=date(2026, 3, 1), last=date(2026, 3, 31), since=date(2026, 1, 1), until=date(2026, 12, 31)
    ) == [date(2026, 3, 2)]


def test_qr_window_and_places() -> None:
    start = datetime(2026, 5, 1, 9, 0)
    end = start + timedelta(hours=2)
    assert da.qr_state(start - timedelta(minutes=61), start, end) == "early"
    assert da.qr_state(start - timedelta(minutes=59), start, end) == "open"
    assert da.qr_state(end + timedelta(minutes=119), start, end) == "open"
    assert da.qr_state(end + timedelta(minutes=121), start, end) == "expired"
    assert da.signup_status(None, 100, 0) == "confirmed"
    assert da.signup_status(2, 1, 0) == "confirmed"
    assert da.signup_status(2, 2, 0) == "waiting"
    assert da.signup_status(2, 1, 1) == "waiting"  # someone is already waiting: no queue jumping
    assert da.places_to_fill(3, 1, 5) == 2 and da.places_to_fill(3, 3, 5) == 0 and da.places_to_fill(None, 0, 4) == 4


# --- creating -------------------------------------------------------------------------------------------------------
def test_create_checks_rule_team_and_who(w: SimpleNamespace) -> None:
    activity = make_activity(w, capacity=10, organiser_phone=w.grid_worker_a1.phone)
    assert activity.secret and len(activity.secret) >= 30 and activity.organiser_id == w.grid_worker_a1.pk
    start = timezone.now() + timedelta(days=2)
    data = ActivityData(
        title="义剪", place="活动室", starts_at=start, ends_at=start + timedelta(hours=2), rule_id=w.cleanupB.pk
    )
    with pytest.raises(DomainError) as e:
        act.activity_create(actor=actor_for(w.staff_a), community=w.A, data=data)
    assert e.value.code == "rule_invalid"
    services.rule_retire(actor=actor_for(w.staff_a), rule=w.haircut)
    for bad, code in (
        ({"rule_id": w.haircut.pk}, "rule_not_in_force"),
        ({"rule_id": w.cleanup.pk, "team_id": w.teamB.pk}, "team_invalid"),
        ({"rule_id": w.cleanup.pk, "ends_at": start}, "time_order"),
        ({"rule_id": w.cleanup.pk, "capacity": 0}, "capacity_invalid"),
        ({"rule_id": w.cleanup.pk, "organiser_phone": w.staff_b.phone}, "organiser_invalid"),
        ({"rule_id": w.cleanup.pk, "title": "  "}, "title_invalid"),
    ):
        with pytest.raises(DomainError) as e:
            act.activity_create(
                actor=actor_for(w.staff_a), community=w.A, data=ActivityData(**{**data.__dict__, **bad})
            )
        assert e.value.code == code
    with pytest.raises(Forbidden):
        act.activity_create(
            actor=actor_for(w.grid_worker_a1),
            community=w.A,
            data=ActivityData(**{**data.__dict__, "rule_id": w.cleanup.pk}),
        )
    with pytest.raises((Forbidden, NotFound)):
        act.activity_create(
            actor=actor_for(w.staff_b), community=w.A, data=ActivityData(**{**data.__dict__, "rule_id": w.cleanup.pk})
        )
    assert Activity.objects.count() == 1


# --- signing up -------------------------------------------------------------------------------------------------------
def test_waiting_list_moves_up_in_order(w: SimpleNamespace) -> None:
    activity = make_activity(w, capacity=2)
    p = residents(w, 4)
    signed = [act.signup_create(actor=actor_for(x.user), activity=activity, person=x) for x in p]
    assert [s.status for s in signed] == ["confirmed", "confirmed", "waiting", "waiting"]
    # signing up again changes nothing
    again = act.signup_create(actor=actor_for(p[2].user), activity=activity, person=p[2])
    assert again.pk == signed[2].pk and again.status == SignupStatus.WAITING
    # the first confirmed cancels: the first waiting (p2) moves up, p3 keeps waiting
    done = act.signup_cancel(actor=actor_for(p[0].user), activity=activity, person=p[0])
    assert [s.person_id for s in done.promoted] == [p[2].pk]
    statuses = dict(Signup.objects.filter(activity=activity).values_list("person_id", "status"))
    assert statuses == {p[0].pk: "cancelled", p[1].pk: "confirmed", p[2].pk: "confirmed", p[3].pk: "waiting"}
    # p0 comes back: at the end of the queue, behind p3
    back = act.signup_create(actor=actor_for(p[0].user), activity=activity, person=p[0])
    assert back.status == SignupStatus.WAITING
    act.signup_cancel(actor=actor_for(p[1].user), activity=activity, person=p[1])
    assert Signup.objects.get(activity=activity, person=p[3]).status == SignupStatus.CONFIRMED
    assert Signup.objects.get(activity=activity, person=p[0]).status == SignupStatus.WAITING
    # more places move the waiting list up at once; fewer than confirmed is refused
    data = ActivityData(
        title=activity.title,
        place=activity.place,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        rule_id=activity.rule_id,
        capacity=3,
    )
    act.activity_update(actor=actor_for(w.staff_a), activity=activity, data=data)
    assert Signup.objects.get(activity=activity, person=p[0]).status == SignupStatus.CONFIRMED
    with pytest.raises(DomainError) as e:
        act.activity_update(
            actor=actor_for(w.staff_a), activity=activity, data=ActivityData(**{**data.__dict__, "capacity": 2})
        )
    assert e.value.code == "capacity_too_small"


def test_sign_up_only_for_oneself_and_only_while_open(w: SimpleNamespace) -> None:
    activity = make_activity(w)
    with pytest.raises(NotFound):  # someone else's place
        act.signup_create(actor=actor_for(w.resident_a1), activity=activity, person=w.pA2)
    with pytest.raises(NotFound):  # another community's resident
        act.signup_create(actor=actor_for(w.staff_b), activity=activity, person=w.pB1)
    # staff may sign up an elder without a phone
    assert act.signup_create(actor=actor_for(w.staff_a), activity=activity, person=w.pA1b).status == "confirmed"
    act.activity_cancel(actor=actor_for(w.staff_a), activity=activity)
    with pytest.raises(DomainError) as e:
        act.signup_create(actor=actor_for(w.resident_a1), activity=activity, person=w.pA1)
    assert e.value.code == "activity_cancelled" and e.value.status == 409
    over = past_activity(w)
    with pytest.raises(DomainError) as e:
        act.signup_create(actor=actor_for(w.resident_a1), activity=over, person=w.pA1)
    assert e.value.code == "activity_over"


@pytest.mark.parametrize("capacity", [5])
def test_capacity_is_never_exceeded_under_real_concurrency(real_db: None, capacity: int) -> None:  # noqa: F811
    from linli.common.testing import make_world

    world = make_catalogue(make_world())
    activity = make_activity(world, capacity=capacity)
    people = residents(world, 16)
    actors = [actor_for(p.user) for p in people]

    def sign_up(i: int) -> str:
        return act.signup_create(actor=actors[i], activity=activity, person=people[i]).status

    results = run_threads(len(people), sign_up)
    assert [kind for kind, _ in results] == ["ok"] * len(people), results
    assert sum(1 for _, status in results if status == "confirmed") == capacity
    assert Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED).count() == capacity
    assert Signup.objects.filter(activity=activity, status=SignupStatus.WAITING).count() == len(people) - capacity

    # everyone confirmed cancels at once while the waiting people sign up again: still never above capacity
    confirmed = [i for i, (_, status) in enumerate(results) if status == "confirmed"]

    def churn(i: int) -> str:
        if i in confirmed:
            return act.signup_cancel(actor=actors[i], activity=activity, person=people[i]).signup.status
        return act.signup_create(actor=actors[i], activity=activity, person=people[i]).status

    results = run_threads(len(people), churn)
    assert [kind for kind, _ in results] == ["ok"] * len(people), results
    assert Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED).count() == capacity
    waiting = list(Signup.objects.filter(activity=activity, status=SignupStatus.WAITING).order_by("created_at", "id"))
    assert len(waiting) == len(people) - 2 * capacity
    # the ones promoted were the first waiting in order
    promoted = set(Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED).values_list("id", flat=True))
    assert all(s.id not in promoted for s in waiting)


# --- QR codes -------------------------------------------------------------------------------------------------------
def test_qr_check_in_and_out(w: SimpleNamespace) -> None:
    activity = make_activity(w, hours=2)
    other = make_activity(w, title="另一个活动")
    resident = actor_for(w.resident_a1)
    token_in, token_out = act.qr_token(activity, "in"), act.qr_token(activity, "out")
    forged = signing.dumps({"a": activity.pk, "k": "in"}, salt="something else")
    for bad in (forged, "", "x" * 300, act.qr_token(other, "in"), token_out, token_in[:-2] + "zz"):
        with pytest.raises(DomainError) as e:
            act.attendance_check_in(actor=resident, activity=activity, token=bad)
        assert e.value.code == "qr_invalid" and e.value.status == 400
    with pytest.raises(DomainError) as e:
        act.attendance_check_out(actor=resident, activity=activity, token=token_out)
    assert e.value.code == "checkout_before_checkin" and e.value.status == 409
    early = activity.starts_at - timedelta(minutes=61)
    with pytest.raises(DomainError) as e:
        act.attendance_check_in(actor=resident, activity=activity, token=token_in, now=early)
    assert e.value.code == "qr_not_yet_valid"
    late = activity.ends_at + timedelta(minutes=121)
    with pytest.raises(DomainError) as e:
        act.attendance_check_in(actor=resident, activity=activity, token=token_in, now=late)
    assert e.value.code == "qr_expired"
    arrived = activity.starts_at - timedelta(minutes=10)
    first = act.attendance_check_in(actor=resident, activity=activity, token=token_in, now=arrived)
    second = act.attendance_check_in(
        actor=resident, activity=activity, token=token_in, now=arrived + timedelta(hours=1)
    )
    assert first.changed and not second.changed and second.attendance.pk == first.attendance.pk
    assert Attendance.objects.get().checked_in_at == arrived
    left = activity.ends_at + timedelta(minutes=5)
    out = act.attendance_check_out(actor=resident, activity=activity, token=token_out, now=left)
    assert out.changed and out.attendance.checked_out_at == left
    assert not act.attendance_check_out(actor=resident, activity=activity, token=token_out).changed
    # staff without a resident record cannot check in; residents of another community see nothing
    with pytest.raises(DomainError) as e:
        act.attendance_check_in(actor=actor_for(w.staff_a), activity=activity, token=token_in)
    assert e.value.code == "not_a_resident"
    # new codes void the printed ones
    act.activity_new_codes(actor=actor_for(w.staff_a), activity=activity)
    activity.refresh_from_db()
    with pytest.raises(Invalid):
        act.qr_check(activity, "out", token_out)
    act.qr_check(activity, "out", act.qr_token(activity, "out"))


def test_marking_attendance(w: SimpleNamespace) -> None:
    activity = past_activity(w)
    steward = actor_for(w.steward_a1)
    marked = act.attendance_mark(actor=steward, activity=activity, person=w.pA1b)
    assert (
        marked is not None and marked.checked_in_at == activity.starts_at and marked.checked_out_at == activity.ends_at
    )
    with pytest.raises(NotFound):  # pA2 lives in building bA2, outside the steward's
        act.attendance_mark(actor=steward, activity=activity, person=w.pA2)
    with pytest.raises(DomainError) as e:
        act.attendance_mark(
            actor=actor_for(w.staff_a),
            activity=activity,
            person=w.pA2,
            checked_in_at=activity.ends_at,
            checked_out_at=activity.starts_at,
        )
    assert e.value.code == "attendance_times"
    with pytest.raises(DomainError) as e:  # the resident cannot mark themself
        act.attendance_mark(actor=actor_for(w.resident_a1), activity=activity, person=w.pA1)
    assert e.value.status == 403
    # absent removes it
    assert act.attendance_mark(actor=actor_for(w.staff_a), activity=activity, person=w.pA1b, present=False) is None
    assert not Attendance.objects.exists()


# --- attendance into claims -------------------------------------------------------------------------------------------
def test_close_turns_attendance_into_approved_claims_once(w: SimpleNamespace) -> None:
    # a staff member who is also a resident attended: their claim waits for another staff member
    staff_person = Person.objects.create(community=w.A, name="社区工作者甲", user=w.staff_a)
    activity = past_activity(w, organiser_phone=w.grid_worker_a1.phone)
    people = residents(w, 3)
    organiser = actor_for(w.grid_worker_a1)
    start = activity.starts_at
    act.attendance_mark(actor=organiser, activity=activity, person=people[0])  # 3 h -> 3 full hours -> 9 points
    act.attendance_mark(
        actor=organiser,
        activity=activity,
        person=people[1],
        checked_in_at=start - timedelta(minutes=50),
        checked_out_at=start + timedelta(minutes=150),
    )  # credited 150 min of the activity -> 6 points
    Attendance.objects.create(community=w.A, activity=activity, person=people[2], checked_in_at=start)  # no check-out
    act.attendance_mark(actor=organiser, activity=activity, person=staff_person)
    act.attendance_mark(
        actor=organiser,
        activity=activity,
        person=w.pA2,
        checked_in_at=start,
        checked_out_at=start + timedelta(minutes=40),
    )  # under an hour: no points
    # the organiser (a grid worker) cannot approve: claims are made, verified, and wait for staff
    staff = actor_for(w.staff_a)
    result = act.activity_close(actor=staff, activity=activity)
    assert result.created == 3 and result.approved == 2 and result.already == 0
    assert [c.person_id for c in result.left_verified] == [staff_person.pk]
    assert {(s.person.pk, s.code) for s in result.skipped} == {(people[2].pk, "no_check_out"), (w.pA2.pk, "no_points")}
    assert balance(people[0]) == 9 and balance(people[1]) == 6 and balance(staff_person) == 0
    claim = Claim.objects.get(person=people[1])
    assert claim.activity_id == activity.pk and claim.minutes == 150 and claim.status == ClaimStatus.APPROVED
    assert claim.verified_by_id is None and claim.decided_by_id == w.staff_a.pk
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CLOSED
    # a second run creates nothing; another staff member approves the one left over
    again = act.activity_close(actor=staff, activity=activity)
    assert again.created == 0 and again.approved == 0 and again.already == 3
    other = actor_for(w.street_admin)
    third = act.activity_close(actor=other, activity=activity)
    assert third.created == 0 and third.approved == 1 and balance(staff_person) == 9
    assert Claim.objects.count() == 3
    # nothing more happens on a closed activity
    with pytest.raises(DomainError) as e:
        act.attendance_mark(actor=staff, activity=activity, person=people[2])
    assert e.value.code == "activity_closed"


def test_organiser_closes_and_staff_approve_later(w: SimpleNamespace) -> None:
    activity = past_activity(w, rule=w.haircut, organiser_phone=w.grid_worker_a1.phone)
    people = residents(w, 2)
    organiser = actor_for(w.grid_worker_a1)
    for p in people:
        act.attendance_mark(actor=organiser, activity=activity, person=p)
    result = act.activity_close(actor=organiser, activity=activity)
    assert result.created == 2 and result.approved == 0 and len(result.left_verified) == 2
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VERIFIED}
    # others may not close it
    with pytest.raises((Forbidden, NotFound)):
        act.activity_close(actor=actor_for(w.grid_worker_a2), activity=activity)
    # too early: refused
    upcoming = make_activity(w)
    with pytest.raises(DomainError) as e:
        act.activity_close(actor=actor_for(w.staff_a), activity=upcoming)
    assert e.value.code == "activity_not_over"


# --- recurring activities -----------------------------------------------------------------------------------------
def _monthly_haircut(w: SimpleNamespace, today: date) -> act.SeriesResult:
    return act.activity_series_create(
        actor=actor_for(w.staff_a),
        community=w.A,
        today=today,
        data=SeriesData(
            title="每月义剪",
            place="社区活动室",
            rule_id=w.haircut.pk,
            repeat="monthly_weekday",
            weekday=0,
            nth=1,
            start_time=time(9, 0),
            end_time=time(11, 0),
            first_date=today,
            capacity=20,
        ),
    )


def test_series_generates_three_months_once_and_ends(w: SimpleNamespace) -> None:
    today = timezone.localdate()
    made = _monthly_haircut(w, today)
    series = made.series
    assert 3 <= len(made.created) <= 4
    for a in made.created:
        local = timezone.localtime(a.starts_at)
        assert local.weekday() == 0 and local.day <= 7 and local.time() == time(9, 0)
        assert a.capacity == 20 and a.rule_id == w.haircut.pk and a.series_id == series.pk and a.secret
    assert act.activity_series_extend(series=series, today=today).created == []  # idempotent
    # a month later, one more month is generated; the command does the same for every series
    later = act.activity_series_extend(series=series, today=today + timedelta(days=31))
    call_command("points", "extend-series", "--today", (today + timedelta(days=31)).isoformat())
    total = Activity.objects.filter(series=series).count()
    assert total == len(made.created) + len(later.created) and len(later.created) >= 1
    # a resident signs up for the last one; ending the series cancels the other future ones
    last = Activity.objects.filter(series=series).order_by("starts_at").last()
    assert last is not None
    act.signup_create(actor=actor_for(w.resident_a1), activity=last, person=w.pA1)
    ended = act.activity_series_end(actor=actor_for(w.staff_a), series=series)
    assert [a.pk for a in ended.kept] == [last.pk]
    future = Activity.objects.filter(series=series, starts_at__gt=timezone.now())
    assert set(future.exclude(pk=last.pk).values_list("status", flat=True)) <= {ActivityStatus.CANCELLED}
    assert act.activity_series_extend(series=series, today=today + timedelta(days=200)).created == []


def test_series_input_is_checked(w: SimpleNamespace) -> None:
    today = timezone.localdate()
    base = SeriesData(
        title="周三巡逻",
        place="南门",
        rule_id=w.cleanup.pk,
        repeat="weekly",
        weekday=2,
        start_time=time(19, 0),
        end_time=time(21, 0),
        first_date=today,
    )
    for bad, code in (
        ({"weekday": None}, "repeat_invalid"),
        ({"repeat": "monthly_day", "day": 30}, "repeat_invalid"),
        ({"end_time": time(18, 0)}, "time_order"),
        ({"first_date": today - timedelta(days=1)}, "date_invalid"),
    ):
        with pytest.raises(DomainError) as e:
            act.activity_series_create(
                actor=actor_for(w.staff_a), community=w.A, data=SeriesData(**{**base.__dict__, **bad})
            )
        assert e.value.code == code
    with pytest.raises(Forbidden):
        act.activity_series_create(actor=actor_for(w.auditor_a), community=w.A, data=base)
    made = act.activity_series_create(actor=actor_for(w.staff_a), community=w.A, data=base)
    assert 13 <= len(made.created) <= 14


def test_steward_role_is_not_organiser(w: SimpleNamespace) -> None:
    """A steward sees no console of an activity they do not organise (may_console) but still marks their people."""
    activity = past_activity(w)
    assert not act.may_console(actor_for(w.steward_a1), activity)
    assert act.may_console(actor_for(w.staff_a), activity)
    RoleAssignment.objects.create(user=w.grid_worker_a2, role=Role.GRID_WORKER, grid=w.A1)
    activity.grid = w.A1
    assert act.may_console(actor_for(w.grid_worker_a2), activity)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (time(21, 30), datetime(2026, 10, 3, 21, 30)),  # the start
        (time(22, 40), datetime(2026, 10, 3, 22, 40)),  # the evening it began, not the next evening
        (time(0, 20), datetime(2026, 10, 4, 0, 20)),  # past midnight: the morning it ended
        (time(20, 50), datetime(2026, 10, 3, 20, 50)),  # early arrival
        (time(1, 15), datetime(2026, 10, 4, 1, 15)),  # left late
    ],
)
def test_a_typed_time_lands_on_the_right_day_of_an_activity_past_midnight(typed: time, expected: datetime) -> None:
    tz = timezone.get_default_timezone()
    starts, ends = datetime(2026, 10, 3, 21, 30, tzinfo=tz), datetime(2026, 10, 4, 0, 30, tzinfo=tz)
    assert da.place_time(typed, starts, ends) == expected.replace(tzinfo=tz)


def test_a_typed_time_on_a_one_day_activity_is_that_day() -> None:
    tz = timezone.get_default_timezone()
    starts, ends = datetime(2026, 10, 3, 9, 0, tzinfo=tz), datetime(2026, 10, 3, 11, 0, tzinfo=tz)
    assert da.place_time(time(23, 0), starts, ends) == datetime(2026, 10, 3, 23, 0, tzinfo=tz)
    assert da.place_time(time(8, 10), starts, ends) == datetime(2026, 10, 3, 8, 10, tzinfo=tz)


def test_the_console_form_reads_times_of_an_activity_past_midnight() -> None:
    """The organiser types 22:40 for someone who left before midnight: that is the evening it began."""
    from linli.points.forms_activities import MarkForm

    tz = timezone.get_default_timezone()
    starts, ends = datetime(2026, 10, 3, 21, 30, tzinfo=tz), datetime(2026, 10, 4, 0, 30, tzinfo=tz)
    activity = Activity(starts_at=starts, ends_at=ends)
    form = MarkForm({"person": 1, "present": "1", "checked_in_at": "21:30", "checked_out_at": "22:40"})
    assert form.is_valid(), form.errors
    assert form.times(activity) == (
        datetime(2026, 10, 3, 21, 30, tzinfo=tz),
        datetime(2026, 10, 3, 22, 40, tzinfo=tz),
    )
