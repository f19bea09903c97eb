from django.utils.translation import gettext_lazy as _

from linli.common.errors import Conflict, Invalid


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    default_message = _("Not enough points in the account.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This request key was already used for a different request.")


class AlreadyReversed(Conflict):
    code = "already_reversed"
    default_message = _("This transfer has already been reversed.")


class CrossCommunity(Invalid):
    code = "other_community"
    default_message = _("Points never move between communities.")


class InvalidAmount(Invalid):
    code = "amount_invalid"
    default_message = _("The number of points must be a whole number above zero.")
