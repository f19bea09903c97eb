"""Page permission rows for owners' votes (see linli/common/tests/matrix.py).

The roof repair vote of SEEDS 003 is on 1号楼 (bA1, grid A1), where resident_a1 (王秀英, pA1) is an owner.
- Seeing a vote (the list, the staff page): vote.view in its area — staff of A and the street, grid A1, the steward of
  bA1, the auditor of A — and owners on its roll (resident_a1, whom the staff page sends to their ballot: 302).
- Preparing, opening, closing, cancelling, voiding: vote.manage (staff). Recording paper ballots: staff and grid A1.
- The owner's ballot: the resident on the roll only.
- The public notice of a closed vote: whoever may see the vote, and everyone who lives or works in community A (it is
  posted on the board anyway); not the merchant operator, nor other communities.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from linli.common.tests.matrix import A1_GRID, A_STAFF, BA1_VIEWERS, Page, in_a
from linli.council import services
from linli.council.models import Ballot, OwnersVote, VoteStatus
from linli.council.testing import add_roof_units, make_vote
from linli.org.access import actor_for
from linli.org.models import Household

VIEWERS = BA1_VIEWERS  # staff of A, grid A1, steward of bA1, auditor of A, and the owner resident_a1
LISTERS = frozenset({"street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1",
                     "grid_worker_a2", "steward_a1", "auditor_a", "resident_a1"})  # fmt: skip
NOTICE_READERS = BA1_VIEWERS | {"grid_worker_a2"}
RECORDERS = A_STAFF | A1_GRID
OWNER = frozenset({"resident_a1"})
TITLE = "1号楼屋面防水维修（需拆除太阳能热水器）"


def _units(w: SimpleNamespace) -> None:
    if not Household.objects.filter(building=w.bA1, room="102").exists():
        add_roof_units(w)


def _vote(w: SimpleNamespace, status: str) -> OwnersVote:
    found = OwnersVote.objects.filter(community=w.A, title=TITLE, status=status).first()
    if found is not None:
        return found
    _units(w)
    if status == VoteStatus.DRAFT:
        return make_vote(w, open_it=False)
    vote = make_vote(w)
    if status == VoteStatus.CLOSED:
        staff = actor_for(w.staff_a)
        for entry in vote.roll.all():
            services.ballot_record(actor=staff, vote=vote, entry=entry, choice="agree")
        vote = services.vote_close(actor=staff, vote=vote)
    return vote


def draft(w: SimpleNamespace) -> int:
    return _vote(w, VoteStatus.DRAFT).pk


def opened(w: SimpleNamespace) -> int:
    return _vote(w, VoteStatus.OPEN).pk


def closable(w: SimpleNamespace) -> int:
    """An open vote whose announced time is over: closing it counts at once."""
    vote = _vote(w, VoteStatus.OPEN)
    OwnersVote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    return vote.pk


def closed(w: SimpleNamespace) -> int:
    return _vote(w, VoteStatus.CLOSED).pk


def a_ballot(w: SimpleNamespace) -> int:
    vote = _vote(w, VoteStatus.OPEN)
    found = Ballot.objects.filter(vote=vote, voided_at__isnull=True).first()
    if found is not None:
        return found.pk
    entry = vote.roll.get(position=2)
    return services.ballot_record(actor=actor_for(w.staff_a), vote=vote, entry=entry, choice="agree").pk


def _entry(w: SimpleNamespace) -> dict[str, Any]:
    return {"entry": _vote(w, VoteStatus.OPEN).roll.get(position=3).pk, "choice": "agree", "channel": "paper"}


def _new_vote_data(w: SimpleNamespace) -> dict[str, Any]:
    return {
        "title": "2号楼加装电梯",
        "proposal": "加装一部电梯。",
        "matter": "rebuild",
        "building": w.bA2.pk,
        "closes_on": str(timezone.localdate() + timedelta(days=10)),
        "closes_time": "20:00",
    }


def _edit_data(w: SimpleNamespace) -> dict[str, Any]:
    return {**_new_vote_data(w), "title": "改过的问题", "building": w.bA1.pk}


def _no_new_vote(w: SimpleNamespace) -> bool:
    return not OwnersVote.objects.filter(title="2号楼加装电梯").exists()


def _not_edited(w: SimpleNamespace) -> bool:
    return not OwnersVote.objects.filter(title="改过的问题").exists()


def _still(status: str) -> Any:
    return lambda w: OwnersVote.objects.filter(community=w.A, title=TITLE, status=status).exists()


def _no_ballot(w: SimpleNamespace) -> bool:
    return not Ballot.objects.exists()


def _no_third_ballot(w: SimpleNamespace) -> bool:
    return not Ballot.objects.filter(entry__position=3).exists()


def _not_voided(w: SimpleNamespace) -> bool:
    return not Ballot.objects.filter(voided_at__isnull=False).exists()


PAGES: list[Page] = [
    Page("council:votes", LISTERS, query=in_a),
    Page("council:vote_new", A_STAFF, query=in_a),
    Page("council:vote_new", A_STAFF, query=in_a, method="POST", data=_new_vote_data, unchanged=_no_new_vote),
    Page("council:vote", VIEWERS, args=lambda w: [opened(w)], ok=frozenset({200, 302})),
    Page("council:vote_edit", A_STAFF, args=lambda w: [draft(w)]),
    Page(
        "council:vote_edit", A_STAFF, args=lambda w: [draft(w)], method="POST", data=_edit_data, unchanged=_not_edited
    ),
    Page("council:vote_open", A_STAFF, args=lambda w: [draft(w)], method="POST", unchanged=_still(VoteStatus.DRAFT)),
    Page(
        "council:ballot_record",
        RECORDERS,
        args=lambda w: [opened(w)],
        method="POST",
        data=_entry,
        unchanged=_no_third_ballot,
    ),
    Page(
        "council:ballot_void",
        A_STAFF,
        args=lambda w: [a_ballot(w)],
        method="POST",
        data=lambda w: {"reason": "记错了户"},
        unchanged=_not_voided,
    ),
    Page("council:vote_close", A_STAFF, args=lambda w: [closable(w)], method="POST", unchanged=_still(VoteStatus.OPEN)),
    Page(
        "council:vote_cancel",
        A_STAFF,
        args=lambda w: [opened(w)],
        method="POST",
        data=lambda w: {"reason": "改期"},
        unchanged=_still(VoteStatus.OPEN),
    ),
    Page("council:vote_notice", NOTICE_READERS, args=lambda w: [closed(w)]),
    Page("council:vote_notice_pdf", NOTICE_READERS, args=lambda w: [closed(w)]),
    Page("council:my_votes", OWNER),
    Page("council:my_vote", OWNER, args=lambda w: [opened(w)]),
    Page(
        "council:my_vote_cast",
        OWNER,
        args=lambda w: [opened(w)],
        method="POST",
        data=lambda w: {"choice": "agree", "confirm": "1"},
        unchanged=_no_ballot,
    ),
]
