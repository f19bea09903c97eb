"""Donation and certificate pages, and the volunteer record.

Staff (community staff, street admin): register donations, assess or decline them, push the queue to the market;
issue and revoke volunteer service certificates. The auditor reads donations and certificates. A resident reads their
own volunteer record and certificates ("my volunteer record"). The confirmation page behind a certificate's QR code is
public. Thin views: parse, one service or selector call, render; DomainErrors become form errors or the error page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.common.errors import NotFound
from linli.common.views import attempt, paginate, query_string_without_page
from linli.ledger.forms import PersonSearchForm
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, require
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name
from linli.org.models import Community, Person
from linli.points import certificates, donations, market_port
from linli.points.forms_records import (
    AssessForm,
    CertificateForm,
    DeclineForm,
    DonationFilterForm,
    DonationForm,
    ItemFormSet,
    PeriodForm,
    RevokeForm,
    filled_items,
)
from linli.points.models import Certificate, Donation, DonationStatus

KINDS = ("书籍", "玩具", "衣物", "鞋子", "厨具", "小家电", "文具", "其他")  # suggestions only; staff may type any kind


def _search(request: HttpRequest, actor: Actor, community: Community) -> dict[str, Any]:
    """Choose a person by name or phone among the people of the community the actor may see."""
    form = PersonSearchForm(request.GET or None)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    found: list[tuple[Person, str]] = []
    if q:
        people = list(org_selectors.people(actor, community=community, q=q)[:20])
        phones = org_selectors.phones_for(actor, people)
        found = [(p, phones[p.pk]) for p in people]
    return {"search_form": form, "q": q, "found": found}


def _namer(actor: Actor, community: Community) -> Any:
    """Full names for staff; masked (王*英) for readers who may not see personal data, e.g. the auditor."""
    reveal = can(actor, "person.view_private", community)
    return (lambda name: name) if reveal else mask_name


def _chosen(request: HttpRequest, actor: Actor, community: Community, action: str) -> Person | None:
    raw = request.POST.get("person") if request.method == "POST" else request.GET.get("person")
    if not pages.positive_int(raw):
        return None
    person = pages.person_in(actor, community, raw)
    require(actor, action, person)
    return person


# --- donations ------------------------------------------------------------------------------------------------------
@login_required
@require_GET
def donation_list(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    form = DonationFilterForm(request.GET or None)
    status, q = "", ""
    if form.is_valid():
        status, q = form.cleaned_data["status"], form.cleaned_data["q"].strip()
    page = paginate(request, donations.donations(actor, community, status=status, q=q))
    name = _namer(actor, community)
    return render(
        request,
        "points/donation_list.html",
        {
            **pages.picker(actor, community),
            "form": form,
            "page": page,
            "rows": [(d, name(d.donor.name)) for d in page],
            "query": query_string_without_page(request),
            "can_manage": can(actor, "donation.manage", community),
        },
    )


@login_required
def donation_new(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "donation.manage", community)
    person = _chosen(request, actor, community, "donation.manage")
    status = 200
    if request.method == "POST":
        form, items = DonationForm(request.POST), ItemFormSet(request.POST, prefix="items")
        if person is not None and form.is_valid() and items.is_valid():
            d = form.cleaned_data
            donor = person
            done = attempt(
                form,
                lambda: donations.donation_register(
                    actor=actor,
                    donor=donor,
                    items=filled_items(items),
                    received_on=d["received_on"],
                    note=d["note"],
                    idempotency_key=pages.form_key(request, d["idempotency_key"]),
                ),
            )
            if done is not None:
                if not done.replayed:
                    messages.success(request, _("Donation registered. Assess it to post the donor's points."))
                return redirect("points:donation_detail", pk=done.donation.pk)
        status = 400
    else:
        form = DonationForm(initial={"person": person.pk if person else None})
        items = ItemFormSet(prefix="items")
    return render(
        request,
        "points/donation_new.html",
        {
            **pages.picker(actor, community),
            **_search(request, actor, community),
            "person": person,
            "form": form,
            "items": items,
            "kinds": KINDS,
        },
        status=status,
    )


def _detail(
    request: HttpRequest,
    actor: Actor,
    donation: Donation,
    *,
    assess: AssessForm | None = None,
    decline: DeclineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    items = list(donation.items.order_by("id"))
    may_decide = (
        donation.status == DonationStatus.REGISTERED
        and can(actor, "donation.manage", donation.community)
        and actor.person_id != donation.donor_id
    )
    return render(
        request,
        "points/donation_detail.html",
        {
            "community": donation.community,
            "d": donation,
            "donor": _namer(actor, donation.community)(donation.donor.name),
            "items": items,
            "may_decide": may_decide,
            "own": actor.person_id == donation.donor_id,
            "assess": assess or AssessForm(items),
            "decline": decline or DeclineForm(),
        },
        status=status,
    )


@login_required
@require_GET
def donation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _detail(request, actor, donations.donation_get(actor, pk))


@login_required
@require_POST
def donation_assess(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    donation = donations.donation_get(actor, pk)
    require(actor, "donation.manage", donation.donor)
    form = AssessForm(list(donation.items.order_by("id")), request.POST)
    if form.is_valid():
        done = attempt(
            form, lambda: donations.donation_assess(actor=actor, donation=donation, assessments=form.assessments())
        )
        if done is not None:
            messages.success(request, _("Assessed: %(points)s points posted to the donor.") % {"points": done.points})
            return redirect("points:donation_detail", pk=donation.pk)
    return _detail(request, actor, donation, assess=form, status=400)


@login_required
@require_POST
def donation_decline(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    donation = donations.donation_get(actor, pk)
    require(actor, "donation.manage", donation.donor)
    form = DeclineForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        done = attempt(form, lambda: donations.donation_decline(actor=actor, donation=donation, reason=reason))
        if done is not None:
            messages.success(request, _("The donation was declined."))
            return redirect("points:donation_detail", pk=donation.pk)
    return _detail(request, actor, donation, decline=form, status=400)


@login_required
@require_GET
def donation_queue(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    page = paginate(request, donations.item_queue(actor, community))
    name = _namer(actor, community)
    return render(
        request,
        "points/donation_queue.html",
        {
            **pages.picker(actor, community),
            "page": page,
            "rows": [(item, name(item.donation.donor.name)) for item in page],
            "market": market_port.market() is not None,
            "can_manage": can(actor, "donation.manage", community),
        },
    )


@login_required
@require_POST
def donation_queue_send(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "donation.manage", community)
    try:
        result = donations.donated_items_send_to_market(actor=actor, community=community)
    except donations.MarketNotInstalled as missing:
        messages.error(request, str(missing.message))
    else:
        messages.success(request, _("%(n)s items are now on the market shelf.") % {"n": len(result.done)})
        for pk, error in result.failed:
            messages.error(request, _("Item %(id)s: %(message)s") % {"id": pk, "message": error.message})
    return redirect(f"{reverse('points:donation_queue')}?community={community.pk}")


# --- certificates ---------------------------------------------------------------------------------------------------
@login_required
@require_GET
def certificate_list(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    q = request.GET.get("q", "").strip()[:50]
    page = paginate(request, certificates.certificates(actor, community, q=q))
    name = _namer(actor, community)
    return render(
        request,
        "points/certificate_list.html",
        {
            **pages.picker(actor, community),
            "q": q,
            "page": page,
            "rows": [(c, name(c.person_name), certificates.format_hours(c.minutes)) for c in page],
            "query": query_string_without_page(request),
            "can_issue": can(actor, "certificate.issue", community),
        },
    )


@login_required
def certificate_issue(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "certificate.issue", community)
    person = _chosen(request, actor, community, "certificate.issue")
    status = 200
    if request.method == "POST":
        form = CertificateForm(request.POST)
        if person is not None and form.is_valid():
            d = form.cleaned_data
            chosen = person
            done = attempt(
                form,
                lambda: certificates.certificate_issue(
                    actor=actor,
                    person=chosen,
                    period_from=d["period_from"],
                    period_to=d["period_to"],
                    idempotency_key=pages.form_key(request, d["idempotency_key"]),
                ),
            )
            if done is not None:
                if not done.replayed:
                    messages.success(request, _("Certificate %(number)s issued.") % {"number": done.certificate.number})
                return redirect("points:certificate_detail", pk=done.certificate.pk)
        status = 400
    else:
        form = CertificateForm(initial={"person": person.pk if person else None})
    record = certificates.service_record(actor, person) if person is not None else None
    return render(
        request,
        "points/certificate_issue.html",
        {
            **pages.picker(actor, community),
            **_search(request, actor, community),
            "person": person,
            "form": form,
            "record": record,
        },
        status=status,
    )


def _detail_page(request: HttpRequest, actor: Actor, cert: Certificate, form: RevokeForm, status: int = 200) -> Any:
    return render(
        request,
        "points/certificate_detail.html",
        {
            "c": cert,
            "community": cert.community,
            "name": _namer(actor, cert.community)(cert.person_name)
            if actor.person_id != cert.person_id
            else cert.person_name,
            "hours": certificates.format_hours(cert.minutes),
            "services": [{**s, "hours": certificates.format_hours(int(s["minutes"]))} for s in cert.services],
            "public_url": request.build_absolute_uri(certificates.public_path(cert)),
            "can_revoke": cert.revoked_at is None and can(actor, "certificate.issue", cert.person),
            "form": form,
        },
        status=status,
    )


@login_required
@require_GET
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _detail_page(request, actor, certificates.certificate_get(actor, pk), RevokeForm())


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    cert = certificates.certificate_get(actor, pk)
    body = certificates.render_pdf(cert, public_url=request.build_absolute_uri(certificates.public_path(cert)))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{cert.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def certificate_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    cert = certificates.certificate_get(actor, pk)
    require(actor, "certificate.issue", cert.person)
    form = RevokeForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        done = attempt(form, lambda: certificates.certificate_revoke(actor=actor, certificate=cert, reason=reason))
        if done is not None:
            messages.success(request, _("The certificate was revoked; its public page now says so."))
            return redirect("points:certificate_detail", pk=cert.pk)
    return _detail_page(request, actor, cert, form, status=400)


@require_GET
def certificate_public(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code's page: anyone, no login. Only the number, masked name, hours, period, issuer and date."""
    try:
        view = certificates.public_view(certificates.certificate_by_code(code))
    except NotFound:
        return render(request, "points/certificate_public.html", {"view": None}, status=404)
    response = render(request, "points/certificate_public.html", {"view": view})
    response["Cache-Control"] = "no-store"  # a revocation shows at once
    response["X-Robots-Tag"] = "noindex"
    return response


# --- the volunteer record -------------------------------------------------------------------------------------------
def _record_page(request: HttpRequest, actor: Actor, person: Person, own: bool) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    since = until = None
    if form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    record = certificates.service_record(actor, person, since=since, until=until)
    community = Community.objects.get(pk=person.community_id)
    return render(
        request,
        "points/certificate_record.html",
        {
            "person": person,
            "name": person.name if own else _namer(actor, community)(person.name),
            "community": community,
            "record": record,
            "form": form,
            "own": own,
            "certificates": [
                (c, certificates.format_hours(c.minutes)) for c in certificates.certificates_of(actor, person)[:50]
            ],
            "can_issue": not own and can(actor, "certificate.issue", person),
        },
    )


@login_required
@require_GET
def volunteer_record(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = Person.objects.filter(pk=pk).first()
    if person is None:
        raise NotFound()
    return _record_page(request, actor, person, own=person.pk == actor.person_id)


@login_required
@require_GET
def my_volunteer_record(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    person = Person.objects.filter(pk=actor.person_id).first() if actor.person_id else None
    if person is None:
        raise NotFound(_("Only residents registered in a community have a volunteer record."))
    return _record_page(request, actor, person, own=True)
