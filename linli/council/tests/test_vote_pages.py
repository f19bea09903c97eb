"""The owners' vote pages with the Django test client: the roll check, opening, paper ballots and voiding, the owner's
phone ballot, closing and the frozen result, and the public notice (page and PDF) without owners' names.

The roof repair vote of SEEDS 003 (linli/council/testing.py): 9 owners, 959.50 m². Roll positions, by household:
1 王秀英 101 75.50 · 2 周建国 102 88.20 · 3 吴桂芳/吴志强 201 75.50 · 4 郑海燕 202 88.20 · 5 冯德胜 301 75.50 ·
6 陈淑珍 302 88.20 · 7 褚文杰 401 75.50 · 8 卫丽娟 402+502 176.40 · 9 the developer 601+602 216.50.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from linli.common.testing import client_for
from linli.council import services
from linli.council.models import Ballot, OwnersVote, VoteStatus
from linli.council.testing import add_roof_units, make_vote
from linli.org.access import actor_for
from linli.org.models import Household, HouseholdMember, Person, User

OWNER_NAMES = ("王秀英", "周建国", "吴桂芳", "吴志强", "郑海燕", "冯德胜", "陈淑珍", "褚文杰", "卫丽娟")


@pytest.fixture
def roof(world: SimpleNamespace) -> SimpleNamespace:
    add_roof_units(world)
    return world


def _record(w: SimpleNamespace, vote: OwnersVote, position: int, choice: str) -> int:
    entry = vote.roll.get(position=position)
    response = client_for(w.staff_a).post(
        reverse("council:ballot_record", args=[vote.pk]), {"entry": entry.pk, "choice": choice, "channel": "paper"}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return entry.pk


def _roof_ballots(w: SimpleNamespace, vote: OwnersVote) -> None:
    """SEEDS 003: 王秀英 and six more agree, 冯德胜 (301) disagrees, the developer does not vote."""
    for position in (1, 2, 3, 4, 6, 7, 8):
        _record(w, vote, position, "agree")
    _record(w, vote, 5, "disagree")


def _closed(w: SimpleNamespace) -> OwnersVote:
    vote = make_vote(w)
    _roof_ballots(w, vote)
    OwnersVote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    response = client_for(w.staff_a).post(reverse("council:vote_close", args=[vote.pk]))
    assert response.status_code == 302
    vote.refresh_from_db()
    assert vote.status == VoteStatus.CLOSED
    return vote


# --- preparing and opening ------------------------------------------------------------------------------------------
def test_new_vote_form_creates_a_draft_and_refuses_bad_input(world: SimpleNamespace) -> None:
    staff = client_for(world.staff_a)
    url = reverse("council:vote_new") + f"?community={world.A.pk}"
    page = staff.get(url).content.decode()
    with translation.override("zh-hans"):
        needs = gettext("needs 3/4 of those taking part")
    assert needs in page and 'name="closes_on"' in page and world.bA1.name in page
    good = {
        "title": "1号楼屋面防水维修",
        "proposal": "屋面整体防水维修。",
        "matter": "rebuild",
        "building": world.bA1.pk,
        "closes_on": str(timezone.localdate() + timedelta(days=7)),
        "closes_time": "19:30",
    }
    both = staff.post(url, {**good, "compound": world.cpA.pk})
    assert both.status_code == 400 and gettext("Choose either one building or one compound.") in both.content.decode()
    bad_date = staff.post(url, {**good, "closes_on": "2026-02-31"})
    assert bad_date.status_code == 400
    outside = staff.post(url, {**good, "building": world.bB1.pk})  # another community's building is not offered
    assert outside.status_code == 400
    assert not OwnersVote.objects.exists()
    created = staff.post(url, good)
    vote = OwnersVote.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("council:vote", args=[vote.pk])
    assert vote.status == VoteStatus.DRAFT and vote.matter == "rebuild" and vote.building == world.bA1
    assert timezone.localtime(vote.closes_at).strftime("%H:%M") == "19:30"
    # edited while a draft; once open the form sends staff back to the vote
    edited = staff.post(reverse("council:vote_edit", args=[vote.pk]), {**good, "title": "屋面维修（修改）"})
    assert edited.status_code == 302
    vote.refresh_from_db()
    assert vote.title == "屋面维修（修改）"


def test_roll_check_lists_missing_units_and_open_is_refused_inline(roof: SimpleNamespace) -> None:
    w = roof
    no_area = Household.objects.create(community=w.A, building=w.bA1, unit="1单元", room="701", floor_area=None)
    HouseholdMember.objects.create(
        community=w.A, household=no_area, person=Person.objects.create(community=w.A, name="孙立"), is_owner=True
    )
    no_owner = Household.objects.create(community=w.A, building=w.bA1, unit="1单元", room="702", floor_area="90.00")
    vote = make_vote(w, open_it=False)
    staff = client_for(w.staff_a)
    page = staff.get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert 'data-testid="missing-area"' in page and 'data-testid="missing-owner"' in page
    assert "1号楼 1单元701" in page and "1号楼 1单元702" in page
    assert reverse("org:household_edit", args=[no_area.pk]) in page
    assert reverse("org:household_edit", args=[no_owner.pk]) in page

    refused = staff.post(reverse("council:vote_open", args=[vote.pk]))
    text = refused.content.decode()
    assert refused.status_code == 409 and 'data-code="roll_incomplete"' in text
    assert "1号楼 1单元701" in text and "1号楼 1单元702" in text
    vote.refresh_from_db()
    assert vote.status == VoteStatus.DRAFT and not vote.roll.exists()


def test_roll_check_counts_the_owners_as_the_law_does_then_opens(roof: SimpleNamespace) -> None:
    vote = make_vote(roof, open_it=False)
    staff = client_for(roof.staff_a)
    page = staff.get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert '<span class="visually-hidden" data-testid="check-owners">9</span>' in page
    assert '<strong data-testid="check-area">959.50</strong>' in page
    assert 'data-testid="missing-area"' not in page
    opened = staff.post(reverse("council:vote_open", args=[vote.pk]))
    assert opened.status_code == 302
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN and vote.total_owners == 9 and vote.total_area == Decimal("959.50")
    # the grid worker of A1 sees it, and may record; the steward sees it, may not record
    assert client_for(roof.grid_worker_a1).get(reverse("council:vote", args=[vote.pk])).status_code == 200
    steward = client_for(roof.steward_a1).get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert reverse("council:ballot_record", args=[vote.pk]) not in steward


# --- ballots --------------------------------------------------------------------------------------------------------
def test_paper_ballot_recorded_then_voided_and_recorded_again(roof: SimpleNamespace) -> None:
    w = roof
    vote = make_vote(w)
    entry_pk = _record(w, vote, 5, "agree")  # 冯德胜's paper ballot, entered wrongly
    ballot = Ballot.objects.get(entry_id=entry_pk)
    assert ballot.channel == "paper" and ballot.recorded_by == w.staff_a
    staff = client_for(w.staff_a)
    page = staff.get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert 'data-testid="entry-5"' in page and "冯德胜" in page
    assert reverse("council:ballot_void", args=[ballot.pk]) in page

    # another choice for the same owner is refused while the first one counts
    clash = staff.post(
        reverse("council:ballot_record", args=[vote.pk]), {"entry": entry_pk, "choice": "disagree", "channel": "paper"}
    )
    assert clash.status_code == 409 and 'data-code="ballot_already_cast"' in clash.content.decode()
    # a void needs a reason
    no_reason = staff.post(reverse("council:ballot_void", args=[ballot.pk]), {"reason": ""})
    assert no_reason.status_code == 400
    ballot.refresh_from_db()
    assert ballot.voided_at is None
    # the grid worker records, but may not void
    assert (
        client_for(w.grid_worker_a1)
        .post(reverse("council:ballot_void", args=[ballot.pk]), {"reason": "错了"})
        .status_code
        == 403
    )
    voided = staff.post(reverse("council:ballot_void", args=[ballot.pk]), {"reason": "记错了，他投的是不同意"})
    assert voided.status_code == 302
    ballot.refresh_from_db()
    assert ballot.voided_at is not None and ballot.void_reason == "记错了，他投的是不同意"
    _record(w, vote, 5, "disagree")
    counted = Ballot.objects.filter(entry_id=entry_pk, voided_at__isnull=True).get()
    assert counted.choice == "disagree"
    page = staff.get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert "记错了，他投的是不同意" in page  # the voided ballot stays on record


def test_record_refuses_an_owner_of_another_vote_and_bad_choices(roof: SimpleNamespace) -> None:
    w = roof
    vote = make_vote(w)
    other = make_vote(w)
    staff = client_for(w.staff_a)
    url = reverse("council:ballot_record", args=[vote.pk])
    foreign = staff.post(url, {"entry": other.roll.get(position=1).pk, "choice": "agree", "channel": "paper"})
    assert foreign.status_code == 400
    bad = staff.post(url, {"entry": vote.roll.get(position=1).pk, "choice": "maybe", "channel": "paper"})
    assert bad.status_code == 400
    phone = staff.post(url, {"entry": vote.roll.get(position=1).pk, "choice": "agree", "channel": "phone"})
    assert phone.status_code == 400  # staff never cast an owner's phone ballot
    junk = staff.post(url, {"entry": "x", "choice": "agree", "channel": "paper"})
    assert junk.status_code == 400
    # the steward sees the vote but records nothing: refused before the input is judged
    assert client_for(w.steward_a1).post(url, {"entry": "x"}).status_code == 403
    assert not Ballot.objects.exists()


def test_owner_casts_on_the_phone_once(roof: SimpleNamespace) -> None:
    w = roof
    vote = make_vote(w)
    owner = client_for(w.resident_a1)
    page = owner.get(reverse("council:my_vote", args=[vote.pk])).content.decode()
    with translation.override("zh-hans"):
        rule = gettext(
            "It passes when at least 2/3 of the owners (and of the area) take part, and at least 3/4 of those taking "
            "part agree, by area and by owners."
        )
    assert vote.title in page and "1号楼 1单元101" in page and "75.50" in page and rule in page
    assert page.count('name="choice"') == 3
    # the staff page sends the owner to their ballot
    assert owner.get(reverse("council:vote", args=[vote.pk]))["Location"] == reverse("council:my_vote", args=[vote.pk])
    listed = owner.get(reverse("council:my_votes")).content.decode()
    assert vote.title in listed

    cast = reverse("council:my_vote_cast", args=[vote.pk])
    confirm = owner.post(cast, {"choice": "agree"})  # first step: "You chose agree — confirm?"
    assert confirm.status_code == 200 and 'data-testid="confirm"' in confirm.content.decode()
    assert not Ballot.objects.exists()
    assert owner.post(cast, {"choice": "agree", "confirm": "1"}).status_code == 302
    assert owner.post(cast, {"choice": "agree", "confirm": "1"}).status_code == 302  # a double tap: counted once
    ballot = Ballot.objects.get()
    assert ballot.choice == "agree" and ballot.channel == "phone" and ballot.cast_by == w.pA1
    after = owner.get(reverse("council:my_vote", args=[vote.pk])).content.decode()
    assert 'data-testid="my-ballot"' in after and 'data-testid="choices"' not in after

    other = owner.post(cast, {"choice": "disagree", "confirm": "1"})
    text = other.content.decode()
    assert other.status_code == 409 and 'data-code="ballot_already_cast"' in text
    assert (
        gettext("If it was recorded wrongly, ask the community office: staff can void it, then you vote again.") in text
    )
    assert Ballot.objects.get().choice == "agree"
    assert owner.post(cast, {"choice": "perhaps", "confirm": "1"}).status_code == 400


def test_close_early_is_refused_while_some_have_not_voted(roof: SimpleNamespace) -> None:
    vote = make_vote(roof)
    _roof_ballots(roof, vote)  # 8 of 9: the developer has not voted, and the time is not up
    refused = client_for(roof.staff_a).post(reverse("council:vote_close", args=[vote.pk]))
    assert refused.status_code == 409 and 'data-code="vote_still_running"' in refused.content.decode()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN and not vote.result
    # the live count is shown meanwhile, and says it is not a result yet
    live = client_for(roof.staff_a).get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert 'data-testid="live"' in live and "743.00" in live


# --- the result and the notice --------------------------------------------------------------------------------------
def test_closed_page_shows_every_number_and_verified(roof: SimpleNamespace) -> None:
    vote = _closed(roof)
    # by hand: taking part 8 of 9 owners, 959.50 - 216.50 (the developer) = 743.00 m²; agree 7 of 8 owners,
    # 743.00 - 75.50 (冯德胜, 301) = 667.50 m². 743/959.5 = 77.44 % ≥ 2/3; 8/9 = 88.89 % ≥ 2/3;
    # 667.5/743 = 89.84 % ≥ 3/4; 7/8 = 87.50 % ≥ 3/4: passed.
    assert vote.passed is True
    page = client_for(roof.staff_a).get(reverse("council:vote", args=[vote.pk])).content.decode()
    for number in ("959.50", "743.00", "667.50", "75.50", "77.44", "88.89", "89.84", "87.50", "1335/1486", "8/9"):
        assert number in page, number
    assert '<td class="num" data-testid="total_owners">9</td>' in page
    assert '<td class="num" data-testid="agree_owners">7 (87.50%)</td>' in page
    assert "≥ 3/4" in page and "≥ 2/3" in page and "&gt; 1/2" not in page
    assert gettext("PASSED") in page and gettext("verified ✓") in page and vote.digest in page
    for basis in vote.result["basis"]:
        assert escape(basis) in page
    # the frozen record changed behind the page's back: the check says so
    OwnersVote.objects.filter(pk=vote.pk).update(result={**vote.result, "agree_owners": 8})
    tampered = client_for(roof.staff_a).get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert gettext("verified ✓") not in tampered and "agree_owners" in tampered


def test_an_ordinary_matter_shows_the_strict_majority(roof: SimpleNamespace) -> None:
    vote = make_vote(roof, matter="fund_use")
    page = client_for(roof.staff_a).get(reverse("council:vote", args=[vote.pk])).content.decode()
    assert "&gt; 1/2" in page and "≥ 3/4" not in page


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_notice_page_and_pdf_have_the_numbers_and_no_owner_names(roof: SimpleNamespace, tmp_path: Path) -> None:
    assert shutil.which("pdftotext"), "poppler-utils is missing"
    vote = _closed(roof)
    page = client_for(roof.resident_a1).get(reverse("council:vote_notice", args=[vote.pk])).content.decode()
    assert "743.00" in page and "667.50" in page and vote.digest in page and "1号楼 1单元402、1号楼 1单元502" in page
    assert not [name for name in OWNER_NAMES if name in page]

    response = client_for(roof.staff_a).get(reverse("council:vote_notice_pdf", args=[vote.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    text = _pdf_text(path)
    for number in ("959.50", "743.00", "667.50", "77.44", "88.89", "89.84", "87.50"):
        assert number in text, number
    assert roof.A.name in text and "1单元301" in text and vote.digest[:32] in text.replace("\n", "").replace(" ", "")
    assert not [name for name in OWNER_NAMES if name in text]


def test_notice_of_a_closed_vote_is_for_the_whole_community(roof: SimpleNamespace) -> None:
    """李建华 (pA2) lives in 2号楼: not on the roll of 1号楼's vote. The notice is posted on the board, so once the vote
    is closed he may read it, but not the staff page, and nothing before it closes."""
    user = User.objects.create_user(phone="13800000002", password="x-Linli-2026", name="李建华")
    roof.pA2.user = user
    roof.pA2.save()
    vote = make_vote(roof)
    neighbour = client_for(user)
    assert neighbour.get(reverse("council:vote_notice", args=[vote.pk])).status_code == 404
    assert neighbour.get(reverse("council:my_vote", args=[vote.pk])).status_code == 404
    _roof_ballots(roof, vote)
    OwnersVote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    services.vote_close(actor=actor_for(roof.staff_a), vote=vote)
    assert neighbour.get(reverse("council:vote_notice", args=[vote.pk])).status_code == 200
    assert neighbour.get(reverse("council:vote", args=[vote.pk])).status_code == 404
    # staff asking for the notice of a vote still open are told it comes after the count
    still_open = make_vote(roof)
    refused = client_for(roof.staff_a).get(reverse("council:vote_notice", args=[still_open.pk]))
    assert refused.status_code == 409


def test_owner_sees_the_result_after_close(roof: SimpleNamespace) -> None:
    vote = _closed(roof)
    page = client_for(roof.resident_a1).get(reverse("council:my_vote", args=[vote.pk])).content.decode()
    assert gettext("PASSED") in page and "743.00" in page and reverse("council:vote_notice", args=[vote.pk]) in page
    cast = client_for(roof.resident_a1).post(
        reverse("council:my_vote_cast", args=[vote.pk]), {"choice": "agree", "confirm": "1"}
    )
    assert cast.status_code == 409  # the vote is closed
    listed = client_for(roof.staff_a).get(reverse("council:votes") + f"?community={roof.A.pk}").content.decode()
    assert vote.title in listed and "8 / 9" in listed
