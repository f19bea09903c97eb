"""The caring merchant's voucher screen (核销) on a phone: type or scan the customer's code, see what it is for and
whose it is (name masked), confirm it used with one big button, and see today's and recent uses.

A merchant operator works for their own shop (a picker when they run several); community staff may use the desk for
partner-unit and community vouchers, in the community they pick. Only vouchers the actor may use are ever found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.common.errors import DomainError, Forbidden
from linli.market import domain, selectors, services
from linli.market.forms_resident import CodeForm, UseForm
from linli.market.models import Voucher, VoucherStatus
from linli.market.views_resident import voucher_words
from linli.org import pages
from linli.org.access import Actor, can
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name
from linli.org.models import Community, Merchant

RECENT_SHOWN = 20


@dataclass(frozen=True)
class Desk:
    """Where the desk works: one of the operator's shops, or (for staff) a community."""

    merchant: Merchant | None
    community: Community
    shops: list[Merchant]

    def query(self) -> str:
        return urlencode({"merchant": self.merchant.pk} if self.merchant else {"community": self.community.pk})


def _desk(request: HttpRequest, actor: Actor) -> Desk:
    shops = list(selectors.operator_merchants(actor))
    if shops:
        wanted = pages.positive_int(request.GET.get("merchant") or request.POST.get("merchant"))
        shop = next((s for s in shops if s.pk == wanted), shops[0])
        return Desk(shop, Community.objects.get(pk=shop.community_id), shops)
    community = pages.community_of(request, actor)
    if not can(actor, "voucher.use", community):
        raise Forbidden(_("The voucher desk is for caring merchants and community staff."))
    return Desk(None, community, [])


def holder_name(voucher: Voucher) -> str:
    """Whose voucher it is, as the merchant may see it: a resident's name masked (王*英), a shop by its name."""
    if voucher.person is not None:
        return mask_name(voucher.person.name)
    return voucher.holder_merchant.name if voucher.holder_merchant_id else ""  # type: ignore[union-attr]


@dataclass(frozen=True)
class Shown:
    v: Voucher
    code: str
    holder: str
    words: str
    usable: bool
    expired: bool


def _shown(voucher: Voucher, now: datetime) -> Shown:
    expired = voucher.status == VoucherStatus.EXPIRED or (
        voucher.status == VoucherStatus.ISSUED and voucher.valid_until < now
    )
    usable = voucher.status == VoucherStatus.ISSUED and not expired
    return Shown(voucher, domain.format_code(voucher.code), holder_name(voucher), voucher_words(voucher, now),
                 usable, expired)  # fmt: skip


def _recent(actor: Actor, desk: Desk) -> list[Shown]:
    now = timezone.now()
    if desk.merchant is not None:
        found = selectors.vouchers_used_recently(actor, desk.merchant, limit=RECENT_SHOWN)
    else:
        found = (
            selectors.vouchers(actor, status=VoucherStatus.USED)
            .filter(community=desk.community)
            .order_by("-used_at")[:RECENT_SHOWN]
        )
    return [_shown(v, now) for v in found]


def _render(
    request: HttpRequest,
    actor: Actor,
    desk: Desk,
    *,
    form: CodeForm | None = None,
    found: Voucher | None = None,
    done: Voucher | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    recent = _recent(actor, desk)
    today = timezone.localdate(now)
    return render(
        request,
        "market/m_desk.html",
        {
            "desk": desk,
            "form": form or CodeForm(),
            "found": _shown(found, now) if found is not None else None,
            "done": _shown(done, now) if done is not None else None,
            "use_form": UseForm(),
            "error": error,
            "recent": recent,
            "today_count": sum(1 for s in recent if s.v.used_at and timezone.localdate(s.v.used_at) == today),
        },
        status=status,
    )


def _in_desk(desk: Desk, voucher: Voucher) -> bool:
    """Staff at a community desk find only that community's vouchers (a shop's operator: any of their shops')."""
    return desk.merchant is not None or voucher.community_id == desk.community.pk


@login_required
@require_GET
def voucher_desk(request: HttpRequest) -> HttpResponse:
    """?code=… looks a voucher up (a scanner types the code and presses Enter); ?done=<id> is the success screen."""
    actor = get_actor(request)
    desk = _desk(request, actor)
    done_id = pages.positive_int(request.GET.get("done"))
    if done_id is not None:
        voucher = selectors.voucher_get(actor, done_id)
        if voucher.status == VoucherStatus.USED and can(actor, "voucher.use", voucher) and _in_desk(desk, voucher):
            return _render(request, actor, desk, done=voucher)
        return redirect(f"{request.path}?{desk.query()}")
    if "code" not in request.GET:
        return _render(request, actor, desk)
    form = CodeForm(request.GET)
    if not form.is_valid():
        return _render(request, actor, desk, form=form, status=400)
    try:
        voucher = selectors.voucher_find(actor, form.cleaned_data["code"])
        if not _in_desk(desk, voucher):
            raise selectors.VoucherNotFound()
    except DomainError as exc:
        return _render(request, actor, desk, form=form, error=str(exc.message), status=exc.status)
    return _render(request, actor, desk, form=CodeForm(), found=voucher)


@login_required
@require_POST
def voucher_use(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Confirm used": one use however often it is tapped (the hidden key), then the success screen."""
    actor = get_actor(request)
    desk = _desk(request, actor)
    voucher = selectors.voucher_get(actor, pk)
    form = UseForm(request.POST)
    if not form.is_valid():
        return _render(request, actor, desk, found=voucher, error=_("Please tap “Confirm used” again."), status=400)
    try:
        used = services.voucher_use(
            actor=actor,
            voucher=voucher,
            code=form.cleaned_data["code"],
            idempotency_key=pages.form_key(request, form.cleaned_data["request_key"]),
        )
    except DomainError as exc:
        if exc.status in {403, 404}:
            raise
        fresh = selectors.voucher_get(actor, pk)
        return _render(request, actor, desk, found=fresh, error=str(exc.message), status=exc.status)
    return redirect(f"{reverse('market:voucher_desk')}?{desk.query()}&done={used.pk}")
