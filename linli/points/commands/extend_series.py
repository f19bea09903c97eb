"""`linli points extend-series [--today YYYY-MM-DD]`: generate the next three months of every running recurring
activity. Idempotent (dates already generated, even cancelled ones, are never made again); run it daily from cron.
Exit status 0 on success, 2 on bad arguments."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.points.activities import series_extend_all

help = "generate the coming occurrences of recurring activities (idempotent; run daily)"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="generate as if today were this day (default: today)")


def handle(command: BaseCommand, **options: Any) -> int:
    today = None
    if options.get("today"):
        try:
            today = date.fromisoformat(options["today"])
        except ValueError:
            command.stderr.write(f"--today must be a date like 2026-01-01, not {options['today']!r}")
            return 2
    results = series_extend_all(today=today)
    created = sum(len(r.created) for r in results)
    skipped = sum(len(r.skipped) for r in results)
    command.stdout.write(f"{len(results)} recurring activities, {created} occurrences created, {skipped} dates skipped")
    return 0
