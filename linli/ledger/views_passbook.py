"""Passbook pages (the resident's own on a phone, staff view of anyone in scope), the printable PDF passbook, and the
QR points card. Thin: find the person, check the permission, one read or write, render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.common.errors import Invalid, NotFound
from linli.ledger import cards, pdf, selectors
from linli.ledger.models import Account, SystemAccount
from linli.org.access import Actor, can, require
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name
from linli.org.models import Person

PAGE_LINES = 20


# --- how a line reads -----------------------------------------------------------------------------------------------


class Namer:
    """People's names as this actor may read them: in full for those who may see the person's private data (staff
    and grid workers in scope, the person themself), masked (王*英) for everyone else, e.g. auditors."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self._reveal: dict[int, bool] = {}

    def person(self, person: Person) -> str:
        if person.pk not in self._reveal:
            self._reveal[person.pk] = can(self.actor, "person.view_private", person)
        return person.name if self._reveal[person.pk] else mask_name(person.name)

    def account(self, account: Account, community_name: str) -> str:
        if account.person is not None:
            return self.person(account.person)
        if account.merchant is not None:
            return account.merchant.name
        if account.team is not None:
            return account.team.name
        if account.system_code == SystemAccount.ISSUANCE:
            return community_name  # new points come from the community
        return str(account.get_system_code_display())


def signed(n: int) -> str:
    """+10 / −10: the sign is in the text, not only in the colour."""
    return f"+{n}" if n > 0 else f"−{abs(n)}"


@dataclass(frozen=True)
class Row:
    transfer_id: int
    date: str
    what: str
    who: str
    change: int
    signed: str
    balance_after: int | None
    reference: str
    proof_url: str


def rows_for(lines: list[selectors.PassbookLine], *, namer: Namer, community_name: str) -> list[Row]:
    proof = reverse("ledger:proof")  # the public page where anyone checks a reference against the sealed month
    rows = []
    for line in lines:
        t = line.transfer
        rows.append(
            Row(
                transfer_id=t.pk,
                date=timezone.localtime(t.created_at).strftime("%Y-%m-%d"),
                what=t.memo or str(t.get_kind_display()),
                who=namer.account(line.counterparty, community_name),
                change=line.change,
                signed=signed(line.change),
                balance_after=line.balance_after,
                reference=t.reference,
                proof_url=f"{proof}?{urlencode({'ref': t.reference})}",
            )
        )
    return rows


# --- whose passbook -------------------------------------------------------------------------------------------------


def _person(actor: Actor, pk: int, action: str) -> Person:
    """A person on whom the actor may do `action`, or 404 — outsiders do not learn that the person exists."""
    person = Person.objects.select_related("community").filter(pk=pk).first()
    if person is None:
        raise NotFound()
    require(actor, action, person, hide=True)
    return person


def _me(actor: Actor) -> Person:
    person = Person.objects.select_related("community").filter(pk=actor.person_id).first() if actor.person_id else None
    if person is None:
        raise NotFound(_("Only residents registered in a community have a passbook and a points card."))
    return person


def _account(person: Person) -> Account | None:
    """The person's account if they have one. Reading never creates it: no points yet means an empty passbook."""
    return Account.objects.filter(person=person).first()


def _before(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 2**62:
        raise Invalid(_("This page link is broken. Please start again from the newest entries."), code="before_invalid")
    return int(raw)


def _year_start() -> datetime:
    return timezone.localtime().replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


# --- the passbook page ----------------------------------------------------------------------------------------------


def _passbook(request: HttpRequest, actor: Actor, person: Person, *, own: bool) -> HttpResponse:
    before = _before(request)
    account = _account(person)
    namer = Namer(actor)
    balance, earned, spent, lines = 0, 0, 0, []
    if account is not None:
        # one line more than shown tells whether an older page exists, without a COUNT
        lines = selectors.passbook_page(account, before_id=before, limit=PAGE_LINES + 1)
        balance = selectors.balance(account)
        year = selectors.totals(account, start=_year_start())
        earned, spent = year.earned, year.spent
    rows = rows_for(lines[:PAGE_LINES], namer=namer, community_name=person.community.name)
    here = reverse("ledger:my_passbook") if own else reverse("ledger:passbook", args=[person.pk])
    older_url = f"{here}?{urlencode({'before': rows[-1].transfer_id})}" if len(lines) > PAGE_LINES else ""
    return render(
        request,
        "ledger/passbook.html",
        {
            "person": person,
            "name": namer.person(person),
            "own": own,
            "balance": balance,
            "earned": earned,
            "spent": spent,
            "year": timezone.localdate().year,
            "rows": rows,
            "older_url": older_url,
            "newest_url": here if before else "",
            "pdf_url": reverse("ledger:my_passbook_pdf") if own else reverse("ledger:passbook_pdf", args=[person.pk]),
            "card_url": reverse("ledger:my_card")
            if own
            else (reverse("ledger:card", args=[person.pk]) if can(actor, "card.manage", person) else ""),
            "can_see_person": not own and can(actor, "person.view", person),
        },
    )


@login_required
def my_passbook(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    return _passbook(request, actor, _me(actor), own=True)


@login_required
def passbook(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _passbook(request, actor, _person(actor, pk, "ledger.view"), own=False)


# --- the printed passbook -------------------------------------------------------------------------------------------


def _passbook_pdf(request: HttpRequest, actor: Actor, person: Person) -> HttpResponse:
    account = _account(person)
    lines = pdf.all_lines(account) if account is not None else []
    namer = Namer(actor)
    printed = timezone.localdate()
    body = pdf.render(
        "ledger/passbook_pdf.html",
        {
            "person": person,
            "name": namer.person(person),
            "community": person.community,
            "printed": printed.strftime("%Y-%m-%d"),
            "rows": rows_for(lines, namer=namer, community_name=person.community.name),
            "balance": selectors.balance(account) if account is not None else 0,
            "proof_url": request.build_absolute_uri(reverse("ledger:proof")),
        },
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="passbook-{person.pk}-{printed:%Y%m%d}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def my_passbook_pdf(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    return _passbook_pdf(request, actor, _me(actor))


@login_required
def passbook_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _passbook_pdf(request, actor, _person(actor, pk, "ledger.view"))


# --- the QR points card ---------------------------------------------------------------------------------------------


def _card_page(request: HttpRequest, actor: Actor, person: Person, *, own: bool) -> HttpResponse:
    card = cards.live_card(person)
    context: dict[str, Any] = {
        "person": person,
        "own": own,
        "card": card,
        "qr": cards.qr_svg(card, title=_("Points card QR code")) if card is not None else "",
        "can_manage": can(actor, "card.manage", person),
    }
    return render(request, "ledger/card.html", context)


@login_required
def my_card(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    return _card_page(request, actor, _me(actor), own=True)


@login_required
def card(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _card_page(request, actor, _person(actor, pk, "card.manage"), own=False)


@login_required
@require_POST
def card_reissue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a card, revoking the live one (if any) so a lost card stops working."""
    actor = get_actor(request)
    person = _person(actor, pk, "card.manage")
    had_card = cards.live_card(person) is not None
    cards.card_issue(actor=actor, person=person)
    messages.success(
        request,
        _("The old card no longer works. Print the new card below.") if had_card else _("A points card was issued."),
    )
    return redirect("ledger:card", pk=person.pk)


@login_required
@require_POST
def card_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = _person(actor, pk, "card.manage")
    live = cards.live_card(person)
    if live is None:
        messages.info(request, _("This person has no card in use."))
    else:
        cards.card_revoke(actor=actor, card=live)
        messages.success(request, _("The card has been revoked; it no longer works at the market."))
    return redirect("ledger:card", pk=person.pk)
