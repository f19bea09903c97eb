"""`linli ledger verify` — being written (issue 3)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

help = "verify (not available yet)"


def add_arguments(parser: CommandParser) -> None:
    pass


def handle(command: BaseCommand, **options: Any) -> int:
    command.stderr.write("linli ledger verify is not available yet")
    return 2
