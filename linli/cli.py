"""The `linli` command: one name for everything.

    linli demo [--port N] [--no-serve]  migrate, load demo data (prints the demo logins), serve on 127.0.0.1
    linli serve [--port N] [--host H]   migrate, serve (small sites behind nginx; see docs/operations.md)
    linli <command> [args...]           any Django management command: linli migrate, linli shell, ...

PORT (environment) is the default port, 8000 if unset. LINLI_NO_SERVE=1 skips the serving step.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

console = Console(stderr=True, highlight=False)

OWN_COMMANDS = ("demo", "serve")


def _ensure_var_dir() -> None:
    """Create the directory of the SQLite file (var/ by default), which a fresh clone does not have yet."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db.get("NAME") or "")
        if name and name != ":memory:" and not name.startswith("file:"):
            os.makedirs(os.path.dirname(os.path.abspath(name)), exist_ok=True)


def _setup_django() -> None:
    _ensure_var_dir()
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _default_port() -> int:
    raw = os.environ.get("PORT", "8000")
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"linli: PORT must be a number, not {raw!r}") from None


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {port}")
    return port


def build_parser(command: str) -> argparse.ArgumentParser:
    if command == "demo":
        description = "Migrate, load demo data and serve the site (for trying linli out)."
    else:
        description = "Migrate and serve the site (small sites behind nginx)."
    parser = argparse.ArgumentParser(prog=f"linli {command}", description=description)
    parser.add_argument("--port", type=_port, default=None, help="port to listen on (default: $PORT or 8000)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--no-serve",
        action="store_true",
        default=os.environ.get("LINLI_NO_SERVE", "").lower() in {"1", "true", "yes"},
        help="prepare the database and stop (also LINLI_NO_SERVE=1)",
    )
    return parser


def prepare(command: str) -> None:
    """Bring the database up to date; for the demo also load the demo data."""
    from django.conf import settings
    from django.core.management import call_command

    with console.status("[bold]Migrating the database…"):
        call_command("migrate", interactive=False, verbosity=0)
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    console.print(f"[green]✓[/] database ready ({vendor})")
    if settings.PRODUCTION:
        with console.status("[bold]Collecting static files…"):
            call_command("collectstatic", interactive=False, verbosity=0)
    if command == "demo":
        console.print("[bold]Loading demo data…[/]")
        call_command("demo_data")


def serve(host: str, port: int) -> None:
    """Django's threaded server; whitenoise (WHITENOISE_USE_FINDERS) serves static and npm files."""
    from django.core.management import call_command

    console.print(f"[bold green]linli[/] is running on [bold]http://{host}:{port}/[/]  (Ctrl+C to stop)")
    call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)


def run_own(command: str, argv: Sequence[str]) -> int:
    args = build_parser(command).parse_args(list(argv))
    port = args.port if args.port is not None else _default_port()
    _setup_django()
    prepare(command)
    if args.no_serve:
        console.print(f"[dim]not serving (--no-serve); `linli serve --port {port}` starts the site[/]")
        return 0
    serve(args.host, port)
    return 0


def passthrough(argv: Sequence[str]) -> int:
    """Any other command goes to Django, exactly as `python manage.py <command> ...` would."""
    from django.core.management import execute_from_command_line

    _ensure_var_dir()
    execute_from_command_line(["linli", *argv])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args in (["-h"], ["--help"], ["help"]):
        sys.stdout.write((__doc__ or "linli").strip() + "\n")
        if args:
            sys.stdout.write("\nDjango management commands:\n")
            return passthrough(["help"])
        return 0
    if args[0] in OWN_COMMANDS:
        from django.core.management import CommandError

        try:
            return run_own(args[0], args[1:])
        except CommandError as exc:
            console.print(f"[bold red]linli {args[0]}:[/] {escape(str(exc))}")
            return 1
    return passthrough(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
