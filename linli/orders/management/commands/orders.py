"""`linli orders <subcommand>`: scheduled and bulk work on work orders.

    linli orders sweep [--community CODE]
        escalate every overdue open order once (idempotent; run it daily, or hourly, from cron or a systemd timer)
    linli orders install-catalogue --community CODE --as PHONE
        add the default service categories the community does not have yet
    linli orders holidays --street CODE [--add YYYY-MM-DD NAME [--workday] | --remove YYYY-MM-DD] --as PHONE
        list, add or remove days of the street's calendar (public holidays, weekend days worked instead: 调休)
    linli orders import-12345 --community CODE FILE.xlsx --as PHONE [--fallback CATEGORY_CODE] [--dry-run]
        file the rows of a 12345-hotline sheet as requests; all or nothing; re-importing files nothing twice

Writes run as the login given with --as (its phone number) so the services check its rights and the audit trail
names it; the sweep is the clock's own work and needs no login.
Exit status: 0 done, 1 refused or the file had errors (printed), 2 bad arguments.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from linli.common.errors import DomainError
from linli.orders import imports, services
from linli.orders.catalogue import catalogue_install
from linli.orders.models import Holiday
from linli.org.access import Actor, actor_for
from linli.org.models import Community, Street, User


class Command(BaseCommand):
    help = "Work orders: the overdue sweep, the service catalogue, the holiday calendar, 12345 imports."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sweep = sub.add_parser("sweep", help="escalate overdue orders once (idempotent; run daily)")
        sweep.add_argument("--community", metavar="CODE", help="only this community")
        install = sub.add_parser("install-catalogue", help="add the default service categories")
        install.add_argument("--community", metavar="CODE", required=True)
        install.add_argument("--as", dest="as_phone", metavar="PHONE", required=True, help="act as this login")
        holidays = sub.add_parser("holidays", help="list, add or remove days of a street's calendar")
        holidays.add_argument("--street", metavar="CODE", required=True)
        holidays.add_argument("--add", nargs=2, metavar=("YYYY-MM-DD", "NAME"))
        holidays.add_argument("--workday", action="store_true", help="the added day is a weekend day worked (调休)")
        holidays.add_argument("--remove", metavar="YYYY-MM-DD")
        holidays.add_argument("--as", dest="as_phone", metavar="PHONE", help="act as this login (to add or remove)")
        imp = sub.add_parser("import-12345", help="file the rows of a 12345-hotline .xlsx sheet")
        imp.add_argument("file", metavar="FILE.xlsx")
        imp.add_argument("--community", metavar="CODE", required=True)
        imp.add_argument("--as", dest="as_phone", metavar="PHONE", required=True, help="act as this login")
        imp.add_argument("--fallback", metavar="CATEGORY_CODE", default="", help="category for rows that match none")
        imp.add_argument("--dry-run", action="store_true", help="check the file, file nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        self.console = Console(
            file=self.stdout,  # type: ignore[arg-type]  # Django's OutputWrapper writes like a text file
            highlight=False,
            force_terminal=False,
            width=120,
            soft_wrap=True,
        )
        handler = {
            "sweep": self._sweep,
            "install-catalogue": self._install,
            "holidays": self._holidays,
            "import-12345": self._import,
        }[options["subcommand"]]
        try:
            status = handler(**options)
        except DomainError as exc:
            self.stderr.write(str(exc.message))
            for error in exc.details.get("errors", []):
                row = f"row {error['row']}" if error.get("row") else "file"
                self.stderr.write(f"  {row} [{error.get('column') or '-'}]: {error['message']}")
            status = 1
        if status:
            sys.exit(status)

    # --- helpers ---------------------------------------------------------------------------------------------------
    def _bad(self, message: str) -> int:
        self.stderr.write(message)
        return 2

    def _actor(self, phone: str | None) -> Actor | None:
        user = User.objects.filter(phone=phone or "", is_active=True).first()
        return actor_for(user) if user is not None else None

    def _community(self, code: str) -> Community | None:
        return Community.objects.filter(code=code).first()

    # --- subcommands -----------------------------------------------------------------------------------------------
    def _sweep(self, **options: Any) -> int:
        community = None
        if options.get("community"):
            community = self._community(options["community"])
            if community is None:
                return self._bad(f"no community with the code {options['community']!r}")
        swept = services.orders_sweep(community=community)
        where = community.code if community else "all communities"
        self.console.print(
            f"[bold]{len(swept.escalated)}[/bold] overdue orders escalated, {swept.already} were escalated before "
            f"({escape(where)})"
        )
        for number in swept.escalated:
            self.console.print(f"  escalated {escape(number)}")
        return 0

    def _install(self, **options: Any) -> int:
        community = self._community(options["community"])
        if community is None:
            return self._bad(f"no community with the code {options['community']!r}")
        actor = self._actor(options["as_phone"])
        if actor is None:
            return self._bad(f"no active login with the phone number {options['as_phone']!r}")
        created = catalogue_install(actor=actor, community=community)
        self.console.print(f"{len(created)} categories added to {escape(community.code)}")
        for category in created:
            self.console.print(f"  {escape(category.code)}  {escape(category.name)}")
        return 0

    def _holidays(self, **options: Any) -> int:
        street = Street.objects.filter(code=options["street"]).first()
        if street is None:
            return self._bad(f"no street with the code {options['street']!r}")
        if options.get("add") and options.get("remove"):
            return self._bad("give --add or --remove, not both")
        if options.get("add") or options.get("remove"):
            actor = self._actor(options.get("as_phone"))
            if actor is None:
                return self._bad("--as PHONE must name an active login to change the calendar")
            raw = options["add"][0] if options.get("add") else options["remove"]
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                return self._bad(f"not a date like 2026-10-01: {raw!r}")
            if options.get("add"):
                holiday = services.holiday_set(
                    actor=actor, street=street, day=day, name=options["add"][1], is_workday=options["workday"]
                )
                self.console.print(
                    f"set {holiday.day} {escape(holiday.name)}" + (" (worked)" if holiday.is_workday else "")
                )
            else:
                found = Holiday.objects.filter(street=street, day=day).first()
                if found is None:
                    return self._bad(f"{day} is not on the calendar of {street.code}")
                services.holiday_remove(actor=actor, holiday=found)
                self.console.print(f"removed {day}")
        table = Table(title=f"{street.name} ({street.code})")
        for header in ("date", "name", "kind"):
            table.add_column(header)
        for h in Holiday.objects.filter(street=street).order_by("day"):
            table.add_row(h.day.isoformat(), escape(h.name), "worked (调休)" if h.is_workday else "holiday")
        self.console.print(table)
        return 0

    def _import(self, **options: Any) -> int:
        community = self._community(options["community"])
        if community is None:
            return self._bad(f"no community with the code {options['community']!r}")
        actor = self._actor(options["as_phone"])
        if actor is None:
            return self._bad(f"no active login with the phone number {options['as_phone']!r}")
        path = Path(options["file"])
        if not path.is_file():
            return self._bad(f"no such file: {path}")
        result = imports.orders_import(
            actor=actor,
            community=community,
            data=path.read_bytes(),
            fallback_category=options["fallback"],
            dry_run=options["dry_run"],
        )
        verb = "would be filed (dry run, nothing written)" if result.dry_run else "filed"
        self.console.print(
            f"{result.rows} rows: [bold]{len(result.filed)}[/bold] {verb}, {len(result.already)} imported before"
        )
        return 0
