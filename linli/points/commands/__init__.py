"""Subcommands of `linli points <name>`: one module each, found automatically (see management/commands/points.py)."""
