"""`linli report <subcommand>`: the monthly disclosure from the console, and the stored months for cron.

    linli report monthly --community CODE --month YYYY-MM [--out DIR] [--base-url URL]
        publish the month's disclosure as the operator at the console (seals the ledger month if not yet; publishing
        again returns the one already published) and write notice.pdf and figures.xlsx into DIR (default: .).
        Prints the public URL, the seal root and the digest of the figures.
    linli report refresh [--community CODE] [--month YYYY-MM]
        (re)compute the stored figures of a closed month (default: the last closed month) for one or every
        community, e.g. from cron early on the 1st:  10 0 1 * *  cd /srv/linli && .venv/bin/linli report refresh

Exit status: 0 done, 1 refused (unknown community, bad month, month not over: the message says why), 2 bad arguments.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.common.errors import DomainError, NotFound
from linli.org.models import Community
from linli.reports import notice, selectors, services

DEFAULT_BASE_URL = os.environ.get("LINLI_BASE_URL", "http://127.0.0.1:8000")


class Command(BaseCommand):
    help = "Reports: publish a month's disclosure (PDF + xlsx) or refresh the stored months."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        monthly = sub.add_parser("monthly", help="publish a month's disclosure and write notice.pdf + figures.xlsx")
        monthly.add_argument("--community", metavar="CODE", required=True)
        monthly.add_argument("--month", metavar="YYYY-MM", required=True)
        monthly.add_argument("--out", metavar="DIR", default=".")
        monthly.add_argument("--base-url", metavar="URL", default=DEFAULT_BASE_URL, help="the site's address (QR code)")
        refresh = sub.add_parser("refresh", help="(re)compute the stored figures of a closed month")
        refresh.add_argument("--community", metavar="CODE", help="one community (default: all)")
        refresh.add_argument("--month", metavar="YYYY-MM", help="default: the last closed month")

    def handle(self, *args: Any, **options: Any) -> None:
        action = {"monthly": self._monthly, "refresh": self._refresh}[options["subcommand"]]
        try:
            status = action(**options)
        except DomainError as error:
            self.stderr.write(f"{error.code}: {error.message}")
            status = 1
        if status:
            sys.exit(status)

    def _communities(self, code: str | None) -> QuerySet[Community]:
        communities = Community.objects.order_by("code")
        if code:
            communities = communities.filter(code=code)
            if not communities.exists():
                raise NotFound(_("There is no community with the code %(code)s.") % {"code": code})
        return communities

    def _monthly(self, **options: Any) -> int:
        community = self._communities(options["community"]).get()
        month = services.month_from_text(options["month"])
        published = services.disclosure_publish(
            actor=None, community=community, month=month, idempotency_key=f"console:{community.code}:{month:%Y-%m}"
        )
        d = published.disclosure
        base = options["base_url"].rstrip("/")
        ctx = notice.context(d, base_url=base)
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        (out / "notice.pdf").write_bytes(notice.render_pdf(ctx))
        (out / "figures.xlsx").write_bytes(notice.render_xlsx(ctx))
        state = "published" if published.created else "already published"
        self.stdout.write(f"{community.code} {month:%Y-%m} revision {d.revision} {state}")
        self.stdout.write(f"url     {base}{reverse('reports:public_notice', args=[community.code, f'{month:%Y-%m}'])}")
        self.stdout.write(f"seal    {' '.join(ctx['root_groups'])}")
        self.stdout.write(f"digest  {d.digest}")
        self.stdout.write(f"wrote   {out / 'notice.pdf'} {out / 'figures.xlsx'}")
        return 0

    def _refresh(self, **options: Any) -> int:
        month = services.month_from_text(options["month"]) if options.get("month") else selectors.last_closed_month()
        if not services.month_is_over(month):
            raise services.MonthNotOver()
        count = 0
        for community in self._communities(options.get("community")):
            row = services.month_store(community.pk, month)
            points = row.figures["points"]
            self.stdout.write(
                f"{community.code} {month:%Y-%m} earned {points['earned']} spent {points['spent']} "
                f"in circulation {points['circulation_end']}"
            )
            count += 1
        self.stdout.write(f"{count} {'month' if count == 1 else 'months'} stored")
        return 0
