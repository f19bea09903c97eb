"""Refusals of the earning chain, each with a stable code clients switch on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.common.errors import Conflict, Forbidden, Invalid


class RuleNotInForce(Invalid):
    code = "rule_not_in_force"
    default_message = _("This rule is not in force on that day.")


class NotARecorder(Forbidden):
    code = "not_a_recorder"
    default_message = _("This rule may not be recorded by you.")


class OwnClaim(Forbidden):
    code = "own_claim"
    default_message = _("Nobody verifies or approves their own claim.")


class SameChecker(Forbidden):
    code = "same_checker"
    default_message = _("The person who verified a claim cannot also approve it: a second person must check.")


class CapExceeded(Conflict):
    code = "cap_exceeded"
    default_message = _("This would go beyond the rule's limit for the person.")


class WrongStatus(Conflict):
    code = "claim_status"
    default_message = _("This claim is no longer waiting for that step; the page may be out of date.")


class NoPoints(Invalid):
    code = "no_points"
    default_message = _("This earns no points (less than one full hour or unit).")
