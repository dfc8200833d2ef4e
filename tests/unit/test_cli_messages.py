"""The CLI refuses bad input in words an operator understands, and never floods the terminal with it."""

from __future__ import annotations

import argparse
import re

import pytest

from ggwatch_cli import MAX_ECHOED_CHARS, UsageError, shown
from ggwatch_cli.commands.context import DEPLOYMENT_ID_RULE, track_request
from ggwatch_cli.config import Configuration
from ggwatch_cli.main import main
from ggwatch_local.demo.options import parse_args
from ggwatch_local.number_options import number

BLOB = "x" * 3000
MACHINE_WORDS = re.compile(r"pattern|String should|\^\[|validation error|invalid int value|parse value")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_short_value_is_quoted_whole_and_a_long_one_is_cut_with_its_length() -> None:
    assert shown("bd-1") == "'bd-1'"
    assert shown(BLOB) == f"'{'x' * MAX_ECHOED_CHARS}…' (3000 characters)"


@pytest.mark.parametrize("deployment_id", ["bad/id", "-starts-with-a-dash", "has space", "", "a" * 129])
def test_an_invalid_deployment_id_is_refused_with_the_rule_in_words(deployment_id: str) -> None:
    with pytest.raises(UsageError) as refused:
        track_request(deployment_id)

    message = str(refused.value)
    assert message == f"invalid deployment ID {shown(deployment_id)}: {DEPLOYMENT_ID_RULE}"
    assert "letters, digits and _ . : -" in message
    assert "at most 128 characters" in message
    assert not MACHINE_WORDS.search(message)


def test_a_valid_deployment_id_with_every_allowed_character_is_accepted() -> None:
    assert track_request("Bd_1.2:3-x").deployment_id == "Bd_1.2:3-x"


def test_a_discovered_deployment_is_recorded_as_tracked_by_discover() -> None:
    assert track_request("bd-1", source="discover").source == "discover"


def test_an_invalid_topic_arn_is_explained_not_quoted_as_a_regex() -> None:
    config = Configuration({"--topic-arn": BLOB}, {"TABLE_NAME": "t"}, None, lambda stack: {})

    with pytest.raises(UsageError) as refused:
        config.poller_settings()

    message = str(refused.value)
    assert "a topic ARN looks like arn:aws:sns:REGION:ACCOUNT:NAME" in message
    assert "(3000 characters)" in message
    assert len(message) < 300
    assert not MACHINE_WORDS.search(message)


def test_a_3000_character_deployment_id_is_not_echoed_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "track", "--table", "t", BLOB)

    assert (code, out) == (2, "")
    assert "(3000 characters)" in err
    assert len(err) < 400


def test_an_unknown_3000_character_command_is_not_echoed_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, BLOB)

    assert code == 2
    assert err.startswith("ggwatch: error: argument COMMAND: invalid choice:")
    assert err.count("\n") == 1
    assert len(err) < 400


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert run(capsys, "--version") == (0, f"ggwatch {version('ggwatch')}\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["local", "up", "--deployments", "-1"], "argument --deployments: must be a whole number, 0 or more"),
        (
            ["local", "up", "--deployments", "two"],
            "argument --deployments: must be a whole number, 0 or more",
        ),
        (["local", "up", "--step-seconds", "0"], "argument --step-seconds: must be a number more than 0"),
        (["local", "up", "--step-seconds", "nan"], "argument --step-seconds: must be a number more than 0"),
    ],
)
def test_local_up_refuses_bad_numbers_in_words(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)

    assert code == 2
    assert err.startswith(f"ggwatch: error: {message} (got ")
    assert not MACHINE_WORDS.search(err)


@pytest.mark.parametrize(
    ("kind", "minimum", "inclusive", "text", "expected"),
    [
        (int, 0, True, "0", 0),
        (int, 0, False, "3", 3),
        (float, 0.0, False, "0.5", 0.5),
    ],
)
def test_a_number_option_accepts_what_its_bound_allows(
    kind: type[float], minimum: float, inclusive: bool, text: str, expected: float
) -> None:
    assert number(kind, minimum=minimum, inclusive=inclusive)(text) == expected


@pytest.mark.parametrize("text", ["0", "-2", "1.5", "abc", "inf", "nan", ""])
def test_a_positive_whole_number_option_refuses_everything_else(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"^must be a whole number more than 0 \(got "):
        number(int, minimum=0, inclusive=False)(text)


def test_a_refused_number_is_echoed_short() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        number(int, minimum=0)(BLOB)
    assert len(str(refused.value)) < 80


def test_the_demo_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert exited.value.code == 0
    assert help_text.startswith('usage: make demo ARGS="')
    for default in (
        "bulk deployments to start (default: 6)",
        "(default: 1.0)",
        "(default: 60.0)",
        "(default: 2)",
    ):
        assert default in help_text


def test_the_demo_refuses_a_bad_number_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--speed", "fast"])

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "make demo: error: argument --speed: must be a number more than 0 (got 'fast')" in err
