"""The `linli` console script: its own commands (demo, serve) and the pass-through to Django commands."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import management

from linli import cli


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Record management commands and the serve step instead of running them."""
    recorded: list[tuple[Any, ...]] = []
    monkeypatch.setattr(management, "call_command", lambda name, *a, **kw: recorded.append((name, *a)))
    monkeypatch.setattr(cli, "serve", lambda host, port: recorded.append(("serve", host, port)))
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("LINLI_NO_SERVE", raising=False)
    return recorded


def test_demo_migrates_loads_demo_data_then_serves_on_8000(calls: list) -> None:
    assert cli.main(["demo"]) == 0
    assert [c[0] for c in calls] == ["migrate", "demo_data", "serve"]
    assert calls[-1] == ("serve", "127.0.0.1", 8000)


def test_demo_port_comes_from_the_flag_then_the_environment(calls: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    cli.main(["demo"])
    cli.main(["demo", "--port", "9001"])
    assert [c for c in calls if c[0] == "serve"] == [
        ("serve", "127.0.0.1", 8123),
        ("serve", "127.0.0.1", 9001),
    ]


def test_no_serve_flag_and_env_skip_serving(calls: list, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.main(["demo", "--no-serve"])
    monkeypatch.setenv("LINLI_NO_SERVE", "1")
    cli.main(["demo"])
    assert [c[0] for c in calls] == ["migrate", "demo_data", "migrate", "demo_data"]


def test_serve_migrates_without_demo_data(calls: list) -> None:
    cli.main(["serve", "--port", "8080", "--host", "0.0.0.0"])
    assert calls == [("migrate",), ("serve", "0.0.0.0", 8080)]


@pytest.mark.parametrize("bad", ["0", "70000", "eighty"])
def test_bad_port_is_a_usage_error(calls: list, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--port", bad])
    assert exc.value.code == 2
    assert "--port" in capsys.readouterr().err
    assert calls == []


def test_other_commands_pass_through_to_django(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    assert "System check identified no issues" in capsys.readouterr().out


def test_passthrough_keeps_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["help", "migrate"])
    out = capsys.readouterr().out
    assert "usage: linli migrate" in out


def test_unknown_command_fails_like_manage_py(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["no_such_command"])
    assert exc.value.code == 1
    assert "Unknown command" in capsys.readouterr().err


def test_no_arguments_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    assert "linli demo" in capsys.readouterr().out


def test_a_failing_step_is_reported_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(name: str, *args: Any, **kwargs: Any) -> None:
        raise management.CommandError(f"Unknown command: {name!r}")

    monkeypatch.setattr(management, "call_command", fail)
    assert cli.main(["demo", "--no-serve"]) == 1
    err = capsys.readouterr().err
    assert "Unknown command" in err and "Traceback" not in err


@pytest.mark.django_db(transaction=True)
def test_serve_no_serve_really_migrates(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--no-serve"]) == 0
    assert "database ready" in capsys.readouterr().err
