"""`manage.py demo_data`: build the demo street (once) and print one demo login per role.

`linli demo` (what `make demo` runs) calls this after `migrate` and before serving. Running it again builds
nothing new: it only makes sure the demo logins exist and prints them. It never deletes anything.
"""

from __future__ import annotations

import io
import shutil
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rich.console import Console
from rich.table import Table

from linli.council.demo import build_council_demo
from linli.ledger.demo_history import build_history
from linli.market.demo import build_market_demo
from linli.orders.demo import build_orders_demo
from linli.org import demo
from linli.org.models import Role
from linli.points.demo import build_points_demo
from linli.reports.demo import build_reports_demo


def bilingual(text: str | Promise, **params: Any) -> str:
    """The label in the active language, followed by the English source when they differ: "角色 / Role"."""
    shown = str(text) % params if params else str(text)
    with translation.override("en"):
        english = str(text) % params if params else str(text)
    return shown if shown == english else f"{shown} / {english}"


COUNT_LABELS: dict[str, Promise] = {
    "communities": _("communities"),
    "grids": _("grids (with micro-grids)"),
    "compounds": _("compounds"),
    "buildings": _("buildings"),
    "households": _("households"),
    "people": _("residents"),
    "teams": _("volunteer teams"),
    "team_members": _("team members"),
    "merchants": _("caring merchants"),
    "partner_units": _("partner units"),
    "logins": _("logins"),
    "role_assignments": _("role assignments"),
}


class Command(BaseCommand):
    help = str(_("Build the demo street (three communities modelled on SEEDS.md) and print the demo logins."))

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households",
            type=int,
            default=demo.DEFAULT_HOUSEHOLDS,
            help=str(
                _("Households in the largest community; the others scale with it. Default: %(default)s.")
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        households: int = options["households"]
        if households < demo.MIN_HOUSEHOLDS:
            raise CommandError(_("--households must be at least %(min)s.") % {"min": demo.MIN_HOUSEHOLDS})
        result = demo.build_demo(households=households)
        history = build_history()  # the points history (linli/ledger/demo_history.py); skipped when it exists
        build_points_demo()  # rules catalogues, claims, activities, donations (linli/points/demo.py); once
        build_orders_demo()  # service catalogues and work orders of the last three months (linli/orders/demo.py); once
        build_market_demo()  # shelves, three months of exchanges, vouchers, a stocktake (linli/market/demo.py); once
        build_council_demo()  # evening talks, resolutions, owners' votes in the demo community (council/demo.py); once
        build_reports_demo()  # disclosures of the last closed months, stored months for dashboards (reports/demo.py)
        counts = demo.demo_counts()

        buffer = io.StringIO()
        width = max(shutil.get_terminal_size((120, 40)).columns, 100)
        console = Console(file=buffer, force_terminal=self.stdout.isatty(), width=width, highlight=False)
        street, seconds = demo.STREET_NAME, round(result.seconds, 1)
        if result.created:
            built = bilingual(
                _("Built the demo street %(street)s in %(seconds)s s."), street=street, seconds=seconds
            )
            console.print(built, style="bold green")
        else:
            kept = bilingual(
                _("The demo street %(street)s is already there: nothing new was built (%(seconds)s s)."),
                street=street,
                seconds=seconds,
            )
            console.print(kept, style="bold")
        if history.created:
            console.print(bilingual(_("Points history: %(count)s transfers."), count=f"{history.transfers:,}"))

        summary = Table(title=bilingual(_("Demo data")), show_header=False)
        summary.add_column()
        summary.add_column(justify="right")
        for key, label in COUNT_LABELS.items():
            summary.add_row(bilingual(label), f"{counts.get(key, 0):,}")
        console.print(summary)

        logins = Table(title=bilingual(_("Demo logins (one per role)")))
        for header in (_("Role"), _("Name"), _("Mobile number"), _("Password"), _("Where")):
            logins.add_column(bilingual(header))
        labels = dict(Role.choices)
        for row in result.logins:
            role = _("Django admin (superuser)") if row["role"] == "superuser" else labels[row["role"]]
            logins.add_row(bilingual(role), row["name"], row["phone"], row["password"], row["where"])
        console.print(logins)
        console.print(bilingual(_("Sign in with the mobile number and the password.")))
        console.print(bilingual(_("These logins are for the demo only: never keep them on a real server.")))
        self.stdout.write(buffer.getvalue(), ending="")
