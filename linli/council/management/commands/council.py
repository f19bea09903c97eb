"""`linli council <subcommand>`: the council's scheduled work.

    linli council sweep
        close every owners' vote whose ballots closed (its `closes_at` has passed): the tally is counted, the result,
        its legal basis and the digest are frozen, exactly as when staff close it. Idempotent: run it every few minutes
        (or at least daily) from cron or a systemd timer, e.g.
        */10 * * * *  cd /srv/linli && .venv/bin/linli council sweep

The sweep is the clock's own work and needs no login. Exit status: 0 done, 2 bad arguments.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console

from linli.council import services


class Command(BaseCommand):
    help = "Council: close the owners' votes whose time is up (the scheduled sweep)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("sweep", help="close every open vote whose closing time has passed (idempotent)")

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
        swept = services.votes_sweep()
        noun = "vote" if swept.closed == 1 else "votes"
        self.console.print(f"[bold]{swept.closed}[/bold] {noun} closed (closing time passed; results frozen)")
        return 0
