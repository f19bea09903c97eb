"""Reads of the ledger: balances, the passbook, period totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, Sum

from linli.ledger.models import Account, AccountRollup, Transfer


def person_balance(person_id: int) -> int:
    """A person's points; 0 when they have no account yet (reading never creates one)."""
    found = Account.objects.filter(person_id=person_id).values_list("balance", flat=True).first()
    return int(found or 0)


def merchant_balance(merchant_id: int) -> int:
    """A merchant's points (what the alliance shop earned and has not spent); 0 without an account."""
    found = Account.objects.filter(merchant_id=merchant_id).values_list("balance", flat=True).first()
    return int(found or 0)


def balance(account: Account) -> int:
    """Constrained accounts keep their balance on the row; issuance is derived from its rollup plus later transfers."""
    if account.constrained:
        return int(Account.objects.values_list("balance", flat=True).get(pk=account.pk))
    rollup = AccountRollup.objects.filter(account=account).first()
    upto = rollup.upto_transfer_id if rollup else 0
    start = rollup.balance if rollup else 0
    credits = Transfer.objects.filter(credit=account, id__gt=upto).aggregate(s=Sum("amount"))["s"] or 0
    debits = Transfer.objects.filter(debit=account, id__gt=upto).aggregate(s=Sum("amount"))["s"] or 0
    return int(start + credits - debits)


@dataclass(frozen=True)
class PassbookLine:
    transfer: Transfer
    change: int  # + earned, - spent
    balance_after: int | None
    counterparty: Account


def passbook_page(account: Account, *, before_id: int | None = None, limit: int = 20) -> list[PassbookLine]:
    """Newest first, `limit` lines older than `before_id`. Keyset pagination: two index range scans of `limit` rows
    each (debits, credits), merged — the same cost on the first page and the ten-thousandth."""
    limit = max(1, min(limit, 100))
    older = Q(id__lt=before_id) if before_id else Q()
    base = Transfer.objects.select_related(
        "debit__person",
        "debit__merchant",
        "debit__team",
        "credit__person",
        "credit__merchant",
        "credit__team",
        "reverses",
    )
    debits = list(base.filter(older, debit=account).order_by("-id")[:limit])
    credits = list(base.filter(older, credit=account).order_by("-id")[:limit])
    merged = sorted(debits + credits, key=lambda t: t.pk, reverse=True)[:limit]
    lines = []
    for t in merged:
        if t.credit_id == account.pk:
            lines.append(PassbookLine(t, t.amount, t.credit_balance_after, t.debit))
        else:
            lines.append(PassbookLine(t, -t.amount, t.debit_balance_after, t.credit))
    return lines


@dataclass(frozen=True)
class Totals:
    earned: int
    spent: int


def totals(account: Account, *, start: datetime | None = None, end: datetime | None = None) -> Totals:
    """Points into and out of `account` in [start, end)."""
    window = Q()
    if start is not None:
        window &= Q(created_at__gte=start)
    if end is not None:
        window &= Q(created_at__lt=end)
    earned = Transfer.objects.filter(window, credit=account).aggregate(s=Sum("amount"))["s"] or 0
    spent = Transfer.objects.filter(window, debit=account).aggregate(s=Sum("amount"))["s"] or 0
    return Totals(int(earned), int(spent))
