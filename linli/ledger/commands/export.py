"""`linli ledger export --format beancount|csv|xlsx [--community CODE] [--output FILE] [--month YYYY-MM]`

Run by operators: the export holds full names (the owners of every account). Without --output, beancount and CSV
go to standard output; an Excel workbook needs --output. A file is written next to its final name and renamed into
place when complete, so a half-written export never looks finished. See linli/ledger/export.py for the formats.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from linli.common.errors import DomainError
from linli.ledger import export

help = "export the ledger as a beancount file, CSV or an Excel workbook"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--format", required=True, choices=export.FORMATS, dest="format")
    parser.add_argument("--community", metavar="CODE", help="only this community (default: every community)")
    parser.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--month", metavar="YYYY-MM", help="only the transfers of this month (Asia/Shanghai)")


class _Out:
    """A text stream over the command's stdout that adds no newlines of its own."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command

    def write(self, text: str) -> int:
        self.command.stdout.write(text, ending="")
        return len(text)


def handle(command: BaseCommand, **options: Any) -> int:
    fmt: str = options["format"]
    output: str | None = options.get("output")
    try:
        scope = export.resolve_scope(community=options.get("community"), month=options.get("month"))
    except DomainError as error:
        command.stderr.write(str(error.message))
        return 2
    if fmt == "xlsx" and not output:
        command.stderr.write(_("An Excel export needs --output FILE."))
        return 2
    if not output:
        out: Any = _Out(command)
        if fmt == "csv":
            out.write("\ufeff")
        export.export(fmt, out, scope)
        return 0
    target = Path(output)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent or Path("."))
    try:
        if fmt == "xlsx":
            with os.fdopen(fd, "wb") as binary:
                summary = export.write_xlsx(binary, scope)
        else:
            encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
            with os.fdopen(fd, "w", encoding=encoding, newline="") as text:
                stream: IO[str] = text
                summary = export.export(fmt, stream, scope)
        os.chmod(partial, 0o600)  # the export holds full names
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    counts = {"transfers": summary.transfers, "accounts": summary.accounts, "file": target}
    if summary.accounts:
        message = _("Exported %(transfers)s transfers and %(accounts)s account balances to %(file)s.") % counts
    else:
        message = _("Exported %(transfers)s transfers to %(file)s.") % counts
    command.stderr.write(message)
    return 0
