"""`linli ledger expire [--community CODE] [--as-of YYYY-MM-DD]`: expire old points where a community's policy says so.

Idempotent: a second run on the same day (or any later day of the same year) posts nothing new. Communities whose
policy leaves expiry off are skipped. Exit status 0 on success, 2 on bad arguments.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from linli.ledger.adjustments import policy_for
from linli.ledger.expiry import cutoff_year, points_expire
from linli.org.models import Community

help = "expire points earned too long ago (communities whose policy turns expiry on)"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--community", metavar="CODE", help="only this community (its code)")
    parser.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", help="the day to expire as of (default: today)")


def handle(command: BaseCommand, **options: Any) -> int:
    as_of = timezone.localdate()
    if options.get("as_of"):
        try:
            as_of = date.fromisoformat(options["as_of"])
        except ValueError:
            command.stderr.write(f"--as-of must be a date like 2026-01-01, not {options['as_of']!r}")
            return 2
    communities = Community.objects.order_by("id")
    if options.get("community"):
        communities = communities.filter(code=options["community"])
        if not communities.exists():
            command.stderr.write(f"no community with the code {options['community']!r}")
            return 2
    total_transfers = total_points = 0
    for community in communities:
        policy = policy_for(community)
        if not policy.expiry_enabled:
            command.stdout.write(f"{community.code}: expiry is off")
            continue
        posted = points_expire(community=community, as_of=as_of)
        points = sum(t.amount for t in posted)
        total_transfers += len(posted)
        total_points += points
        command.stdout.write(
            f"{community.code}: points earned up to {cutoff_year(as_of, policy.expiry_years)} — "
            f"{len(posted)} accounts, {points} points expired"
        )
    command.stdout.write(f"expired {total_points} points in {total_transfers} transfers as of {as_of.isoformat()}")
    return 0
