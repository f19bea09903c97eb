"""Refusals of the work-order chain, each with a stable code clients switch on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.common.errors import Conflict, Forbidden, Invalid


class TransitionRefused(Conflict):
    code = "order_status"
    default_message = _("This work order is not at a step where that can be done; the page may be out of date.")


class UnknownCategory(Invalid):
    code = "unknown_category"
    default_message = _("There is no such service category in this community.")


class PlaceOutside(Invalid):
    code = "place_outside"
    default_message = _("That place is not in this community.")


class AlreadyRated(Conflict):
    code = "already_rated"
    default_message = _("This request has already been rated.")


class NotReporter(Forbidden):
    code = "not_reporter"
    default_message = _("Only the resident who made the request can rate it.")


class NotAssigned(Forbidden):
    code = "not_assigned"
    default_message = _("This work order is not assigned to you.")


class AnswerRequired(Invalid):
    code = "answer_required"
    default_message = _("Write down what was done: the resident reads this answer.")


class ReasonRequired(Invalid):
    code = "reason_required"
    default_message = _("Please give a reason.")
