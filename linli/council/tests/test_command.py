"""`linli council sweep`: closes the votes whose time is up, leaves running ones alone, says how many it closed."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from linli import cli
from linli.common.testing import make_world
from linli.council import services
from linli.council.models import OwnersVote, VoteStatus
from linli.council.testing import add_roof_units, make_vote
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db


def _sweep() -> str:
    out = StringIO()
    call_command("council", "sweep", stdout=out)
    return out.getvalue()


@pytest.fixture
def votes() -> tuple[OwnersVote, OwnersVote]:
    w = make_world()
    add_roof_units(w)
    due = make_vote(w)
    running = make_vote(w, closes_at=timezone.now() + timedelta(days=3))
    entry = due.roll.order_by("position").first()
    assert entry is not None
    services.ballot_record(actor=actor_for(w.staff_a), vote=due, entry=entry, choice="agree")
    # its announced time passes (the vote was opened with a closing time in the future, as the service demands)
    OwnersVote.objects.filter(pk=due.pk).update(closes_at=timezone.now() - timedelta(minutes=5))
    return due, running


def test_sweep_closes_a_vote_whose_time_passed_and_leaves_an_open_one(votes) -> None:
    due, running = votes
    out = _sweep()
    assert "1 vote closed" in out
    due.refresh_from_db()
    running.refresh_from_db()
    assert due.status == VoteStatus.CLOSED and due.closed_by is None and due.closed_at is not None
    assert due.passed is False and due.result["part_owners"] == 1  # one ballot of nine owners: no quorum
    assert len(due.digest) == 64 and services.vote_verify(due).ok
    assert running.status == VoteStatus.OPEN and running.passed is None and running.result == {}
    # idempotent: nothing left to close
    assert "0 votes closed" in _sweep()
    running.refresh_from_db()
    assert running.status == VoteStatus.OPEN


@pytest.mark.django_db(transaction=True)  # Django closes the connection after a command run from argv
def test_the_linli_console_script_reaches_the_sweep(transactional_db, votes, capsys) -> None:
    due, _running = votes
    assert cli.main(["council", "sweep"]) == 0
    assert "1 vote closed" in capsys.readouterr().out
    due.refresh_from_db()
    assert due.status == VoteStatus.CLOSED


def test_a_subcommand_is_required(db) -> None:
    with pytest.raises(CommandError):
        call_command("council")
