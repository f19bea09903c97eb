"""`linli ledger expire` — being written (issue 3)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

help = "expire (not available yet)"


def add_arguments(parser: CommandParser) -> None:
    pass


def handle(command: BaseCommand, **options: Any) -> int:
    command.stderr.write("linli ledger expire is not available yet")
    return 2
