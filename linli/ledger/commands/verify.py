"""`linli ledger verify [--community CODE]`: recompute every row hash, balance and seal.

Exit 0 with a one-line summary when everything holds; exit 1 naming the first bad transfer (lowest id) and listing
what else is wrong otherwise.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.ledger import sealing
from linli.org.models import Community

help = "check every row hash, running balance, account balance and seal; name the first bad transfer"

SHOWN = 20  # problems printed besides the first bad transfer's


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--community", metavar="CODE", help="one community (default: all)")


def handle(command: BaseCommand, **options: Any) -> int:
    community = None
    if options.get("community"):
        community = Community.objects.filter(code=options["community"]).first()
        if community is None:
            command.stderr.write(f"unknown community: {options['community']}")
            return 2
    report = sealing.ledger_verify(community=community)
    summary = (
        f"{report.communities} communities, {report.transfers} transfers, {report.accounts} accounts, "
        f"{report.seals} seals checked in {report.seconds:.2f} s"
    )
    if report.ok:
        command.stdout.write(f"ledger OK: {summary}")
        return 0
    first = report.first_bad_transfer
    if first is not None:
        reasons = "; ".join(p.message for p in report.problems_of(first))
        command.stdout.write(f"first bad transfer: #{first} — {reasons}")
    for problem in [p for p in report.problems if p.transfer_id is None or p.transfer_id != first][:SHOWN]:
        command.stdout.write(f"  {problem}")
    more = report.problem_count - len(report.problems_of(first) if first else []) - SHOWN
    if more > 0:
        command.stdout.write(f"  … and {more} more problems")
    command.stdout.write(f"ledger NOT OK: {report.problem_count} problems; {summary}")
    return 1
