"""Refusals of the council, each with a stable code clients switch on."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.common.errors import Conflict, Invalid


class MeetingStatusRefused(Conflict):
    code = "meeting_status"
    default_message = _("This meeting is not at a step where that can be done; the page may be out of date.")


class CheckinRefused(Conflict):
    code = "checkin_refused"
    default_message = _("Check-in is open from two hours before the meeting until it closes.")


class BadCheckinCode(Invalid):
    code = "checkin_code_invalid"
    default_message = _("This check-in code does not belong to the meeting. Scan the code on the wall again.")


class ResolutionStatusRefused(Conflict):
    code = "resolution_status"
    default_message = _("This resolution is not at a step where that can be done; the page may be out of date.")


class EvaluationRefused(Conflict):
    code = "evaluation_not_open"
    default_message = _("A resolution can be rated once it is done.")


class VoteStatusRefused(Conflict):
    code = "vote_status"
    default_message = _("This vote is not at a step where that can be done; the page may be out of date.")


class RollIncomplete(Conflict):
    code = "roll_incomplete"
    default_message = _("The roll of owners is not complete.")

    def __init__(self, *, missing_area: list[str], missing_owner: list[str], empty: bool) -> None:
        message: Any
        if empty:
            message = _("There is no exclusive unit in this place: the vote has nobody to count.")
        else:
            message = _(
                "The roll of owners is not complete: %(area)d units have no registered floor area and %(owner)d "
                "units have no owner (mark unsold units as the developer's). Fix the households first."
            ) % {"area": len(missing_area), "owner": len(missing_owner)}
        super().__init__(
            message, details={"missing_area": missing_area[:50], "missing_owner": missing_owner[:50], "empty": empty}
        )


class NotOnRoll(Conflict):
    code = "not_on_roll"
    default_message = _("You are not on the roll of owners of this vote. Ask the community office if that is wrong.")


class BallotAlreadyCast(Conflict):
    code = "ballot_already_cast"
    default_message = _("A ballot for this owner has already been counted. Staff can void a wrong record first.")


class VotingClosed(Conflict):
    code = "voting_closed"
    default_message = _("The time for ballots is over.")


class TooEarlyToClose(Conflict):
    code = "vote_still_running"
    default_message = _(
        "Ballots are still open until the announced time and not every owner has voted yet; close it then."
    )
