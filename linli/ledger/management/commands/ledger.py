"""`linli ledger <subcommand>`: seal, verify, expire, export.

Each subcommand lives in linli/ledger/commands/<name>.py with `help`, `add_arguments(parser)` and
`handle(command, **options) -> int` (the exit status). Adding one means adding a module and listing it below.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

SUBCOMMANDS = ("seal", "verify", "expire", "export")


class Command(BaseCommand):
    help = "The points ledger: seal a month, verify the books, expire points, export."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name in SUBCOMMANDS:
            module = importlib.import_module(f"linli.ledger.commands.{name}")
            sub_parser = sub.add_parser(name, help=module.help)
            module.add_arguments(sub_parser)

    def handle(self, *args: Any, **options: Any) -> None:
        module = importlib.import_module(f"linli.ledger.commands.{options['subcommand']}")
        status = module.handle(self, **options)
        if status:
            sys.exit(status)
