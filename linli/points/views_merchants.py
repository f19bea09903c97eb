"""The staff page where a caring merchant's service is recorded under an earning rule, with the shop's earnings and
balance (points:merchant_services). Thin: parse, one call to linli.points.merchant_service, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from linli.common.errors import NotFound
from linli.common.views import attempt
from linli.ledger.forms import KeyedForm
from linli.org import pages
from linli.org.access import Actor, require, require_any
from linli.org.context_processors import get_actor
from linli.org.models import Merchant
from linli.points import merchant_service
from linli.points.models import Rule


class RuleChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        version = obj.current
        return f"{version.name} · {version.points} / {version.get_unit_display()}"


class MerchantServiceForm(KeyedForm):
    rule = RuleChoice(label=gettext_lazy("Rule"), queryset=Rule.objects.none())
    quantity = forms.DecimalField(
        label=gettext_lazy("Hours or times"),
        min_value=Decimal("0.01"),
        max_value=10000,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
        help_text=gettext_lazy("Hours for a rule counted per full hour; times for one counted per occurrence."),
    )
    occurred_on = forms.DateField(
        label=gettext_lazy("Date of service"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def __init__(self, data: Any = None, *, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.initial.setdefault("occurred_on", timezone.localdate())
        field = self.fields["rule"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = merchant_service.award_rules(merchant)


def _merchant(request: HttpRequest, actor: Actor) -> Merchant | None:
    wanted = request.GET.get("merchant") or request.POST.get("merchant")
    if not wanted:
        return None
    pk = pages.positive_int(wanted)
    merchant = Merchant.objects.select_related("community").filter(pk=pk).first() if pk else None
    if merchant is None:
        raise NotFound()
    require(actor, "merchant.award", merchant, hide=True)
    return merchant


@login_required
@require_http_methods(["GET", "POST"])
def merchant_services(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "merchant.award")
    merchant = _merchant(request, actor)
    if merchant is None:  # no shop chosen yet: the community's merchants to choose from
        community = pages.community_of(request, actor)
        require(actor, "merchant.award", community)
        shops = Merchant.objects.filter(community=community).order_by("-is_active", "name")
        return render(request, "points/merchant_services.html", {**pages.picker(actor, community), "shops": shops})
    form = MerchantServiceForm(request.POST if request.method == "POST" else None, merchant=merchant)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            done = attempt(
                form,
                lambda: merchant_service.merchant_service_record(
                    actor=actor,
                    merchant=merchant,
                    rule=d["rule"],
                    quantity=d["quantity"],
                    occurred_on=d["occurred_on"],
                    note=d["note"],
                    idempotency_key=pages.form_key(request, d["idempotency_key"]),
                ),
            )
            if done is not None:
                if not done.replayed:
                    messages.success(
                        request,
                        _("%(points)s points posted to %(name)s.")
                        % {"points": done.service.points, "name": merchant.name},
                    )
                return redirect(f"{reverse('points:merchant_services')}?merchant={merchant.pk}")
        status = 400
    return render(
        request,
        "points/merchant_services.html",
        {
            "community": merchant.community,
            "merchant": merchant,
            "form": form,
            "balance": merchant_service.merchant_balance(actor, merchant),
            "services": merchant_service.merchant_services(actor, merchant)[:100],
        },
        status=status,
    )
