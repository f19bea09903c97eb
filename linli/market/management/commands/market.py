"""`linli market <subcommand>`: the points market's scheduled work.

    linli market sweep [--community CODE]
        reservations not picked up in time and vouchers past their date give their points back (reserved goods go
        back on the shelf); idempotent: run it daily from cron or a systemd timer, e.g.
        10 0 * * *  cd /srv/linli && .venv/bin/linli market sweep

The sweep is the clock's own work and needs no login. Exit status: 0 done, 1 some items were refused (printed),
2 bad arguments.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.markup import escape

from linli.market import services
from linli.org.models import Community


class Command(BaseCommand):
    help = "Points market: the daily sweep of expired reservations and vouchers."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sweep = sub.add_parser("sweep", help="return the points of expired reservations and vouchers (idempotent)")
        sweep.add_argument("--community", metavar="CODE", help="only this community")

    def handle(self, *args: Any, **options: Any) -> None:
        self.console = Console(
            file=self.stdout,  # type: ignore[arg-type]  # Django's OutputWrapper writes like a text file
            highlight=False,
            force_terminal=False,
            width=120,
            soft_wrap=True,
        )
        status = {"sweep": self._sweep}[options["subcommand"]](**options)
        if status:
            sys.exit(status)

    def _sweep(self, **options: Any) -> int:
        community = None
        if options.get("community"):
            community = Community.objects.filter(code=options["community"]).first()
            if community is None:
                self.stderr.write(f"no community with the code {options['community']!r}")
                return 2
        swept = services.market_sweep(community=community)
        where = community.code if community else "all communities"
        self.console.print(
            f"[bold]{swept.reservations}[/bold] reservations expired, [bold]{swept.vouchers}[/bold] vouchers expired, "
            f"{swept.points_returned} points returned ({escape(where)})"
        )
        for kind, pk, error in swept.failed:
            self.stderr.write(f"  {kind} {pk}: [{error.code}] {error.message}")
        return 1 if swept.failed else 0
