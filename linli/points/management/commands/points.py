"""`linli points <subcommand>`: scheduled and bulk work of the points app.

Each subcommand is a module linli/points/commands/<name>.py (the command name uses "-" for "_") with `help`,
`add_arguments(parser)` and `handle(command, **options) -> int` (the exit status). Modules are found automatically,
so adding one needs no change here.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.points import commands


def _modules() -> dict[str, str]:
    return {
        info.name.replace("_", "-"): f"linli.points.commands.{info.name}"
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    }


class Command(BaseCommand):
    help = "Earning points: scheduled and bulk work (e.g. extend-series)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, path in sorted(_modules().items()):
            module = importlib.import_module(path)
            module.add_arguments(sub.add_parser(name, help=module.help))

    def handle(self, *args: Any, **options: Any) -> None:
        module = importlib.import_module(_modules()[options["subcommand"]])
        status = module.handle(self, **options)
        if status:
            sys.exit(status)
