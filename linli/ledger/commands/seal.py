"""`linli ledger seal [--month YYYY-MM] [--community CODE]`: close a month and print its Merkle roots.

Without --month the previous month is sealed; without --community every community is. A month sealed before with the
same root is reported as such (exit 0); one whose root changed since is refused (exit 1: run `linli ledger verify`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.common.errors import DomainError
from linli.ledger import sealing
from linli.org.models import Community

help = "seal a month: store and print the Merkle root of each community's transfers"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--month", help="YYYY-MM (default: the previous month)")
    parser.add_argument("--community", metavar="CODE", help="one community (default: all)")


def handle(command: BaseCommand, **options: Any) -> int:
    month = options.get("month") or sealing.previous_month()
    communities = Community.objects.order_by("code")
    if options.get("community"):
        communities = communities.filter(code=options["community"])
        if not communities.exists():
            command.stderr.write(f"unknown community: {options['community']}")
            return 2
    status = 0
    for community in communities:
        try:
            sealed = sealing.ledger_seal(community=community, month=month, actor=None)
        except DomainError as error:
            command.stderr.write(f"{community.code} {month}: {error.code}: {error.message}")
            status = 1
            continue
        seal = sealed.seal
        note = "already sealed, same root" if sealed.replayed else "sealed"
        span = f"#{seal.first_transfer_id}–#{seal.last_transfer_id}" if seal.transfer_count else "no transfers"
        line = f"{community.code} {month} {seal.merkle_root} {seal.transfer_count} transfers ({span}) {note}"
        command.stdout.write(line)
    return status
