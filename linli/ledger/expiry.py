"""Optional expiry of old points (off unless a community's LedgerPolicy turns it on).

The rule, precisely: points earned in calendar year Y (Asia/Shanghai time, the project's TIME_ZONE) expire at the end
of year Y + expiry_years. With expiry_years = 1 ("the end of the year after earning"), points earned during 2024 are
valid through 31 December 2025 and expire when the run happens on or after 1 January 2026.

So a run on `as_of` expires everything earned up to the end of the *cutoff year* as_of.year - expiry_years - 1.
Spending uses the oldest points first: every debit of the account so far (redemptions, gifts, reversals of awards,
negative adjustments and earlier expiries alike) used up the oldest credits first, so what expires now is
domain.expiring_amount(credits up to the end of the cutoff year, all debits so far) — never more than the balance.

Each expiry is a transfer person → the community's expiry account with kind "expiry" and the idempotency key
"expire:<account id>:<cutoff year>": running it twice (or twice at once) posts nothing new.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from linli.ledger import domain, services
from linli.ledger.adjustments import policy_for
from linli.ledger.errors import IdempotencyKeyReused, InsufficientPoints
from linli.ledger.models import Account, AccountKind, SystemAccount, Transfer, TransferKind
from linli.org.models import Community


def cutoff_year(as_of: date, expiry_years: int) -> int:
    """The last calendar year whose points have expired by `as_of`."""
    return as_of.year - expiry_years - 1


def _year_end(year: int) -> datetime:
    """The first instant after `year`, in the project's time zone."""
    return datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def expiring_for(account: Account, cutoff: int) -> int:
    """Points of `account` earned up to the end of year `cutoff` and not used by any debit so far."""
    earned = (
        Transfer.objects.filter(credit=account, created_at__lt=_year_end(cutoff)).aggregate(s=Sum("amount"))["s"] or 0
    )
    spent = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"] or 0
    return domain.expiring_amount(earned_until_cutoff=int(earned), spent_so_far=int(spent))


def _candidates(community: Community, cutoff: int) -> list[int]:
    """Person accounts that may have something to expire, in two grouped queries for the whole community."""
    earned = dict(
        Transfer.objects.filter(community=community, credit__kind=AccountKind.PERSON, created_at__lt=_year_end(cutoff))
        .values_list("credit_id")
        .annotate(s=Sum("amount"))
        .values_list("credit_id", "s")
    )
    if not earned:
        return []
    spent = dict(
        Transfer.objects.filter(community=community, debit_id__in=list(earned))
        .values_list("debit_id")
        .annotate(s=Sum("amount"))
        .values_list("debit_id", "s")
    )
    return sorted(
        acc
        for acc, got in earned.items()
        if domain.expiring_amount(earned_until_cutoff=int(got), spent_so_far=int(spent.get(acc, 0))) > 0
    )


def points_expire(*, community: Community, as_of: date, actor: Any = None) -> list[Transfer]:
    """Expire what the community's policy says has expired by `as_of`; returns the transfers posted by this run
    (empty when the policy is off, when nothing is due, or when an earlier run already did it)."""
    policy = policy_for(community)
    if not policy.expiry_enabled:
        return []
    cutoff = cutoff_year(as_of, policy.expiry_years)
    expiry_account = services.system_account(community, SystemAccount.EXPIRY)
    posted: list[Transfer] = []
    for account_id in _candidates(community, cutoff):
        key = f"expire:{account_id}:{cutoff}"
        if Transfer.objects.filter(community=community, idempotency_key=key).exists():
            continue  # an earlier run expired this year's points already
        account = Account.objects.get(pk=account_id)
        for _attempt in range(3):  # spending in between can lower the amount: count again and retry
            try:
                with transaction.atomic():
                    amount = expiring_for(account, cutoff)
                    if amount <= 0:
                        break
                    result = services.transfer_post(
                        debit=account,
                        credit=expiry_account,
                        amount=amount,
                        kind=TransferKind.EXPIRY,
                        actor=actor,
                        idempotency_key=key,
                        memo=_("Points earned up to %(year)s and not used by the end of %(end)s")
                        % {"year": cutoff, "end": cutoff + policy.expiry_years},
                        ref_type="expiry",
                        ref_id=cutoff,
                    )
            except InsufficientPoints:
                continue
            except IdempotencyKeyReused:
                break  # a concurrent run expired it first
            if not result.replayed:
                posted.append(result.transfer)
            break
    return posted
