"""The CLI finds its table and topic in one documented order and says how to provide a missing one."""

from __future__ import annotations

import pytest

from ggwatch_cli import UsageError
from ggwatch_cli.config import EVENT_BUS, TABLE, TOPIC, Configuration

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ggwatch-notifications"
OTHER_ARN = "arn:aws:sns:us-east-1:123456789012:other"


class Outputs:
    """A stand-in for CloudFormation that records which stacks were described."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs
        self.described: list[str] = []

    def __call__(self, stack: str) -> dict[str, str]:
        self.described.append(stack)
        return self.outputs


def configuration(
    flags: dict[str, str | None] | None = None,
    environ: dict[str, str] | None = None,
    stack: str | None = None,
    outputs: Outputs | None = None,
) -> Configuration:
    return Configuration(flags or {}, environ or {}, stack, outputs or Outputs({}))


def test_a_flag_wins_over_the_environment_and_the_stack() -> None:
    outputs = Outputs({"TableName": "from-stack"})
    config = configuration({"--table": "from-flag"}, {"GGWATCH_TABLE_NAME": "env"}, "ggwatch", outputs)
    assert config.tracker_settings().TABLE_NAME == "from-flag"
    assert config.origin(TABLE) == "--table"
    assert outputs.described == []


def test_the_ggwatch_variable_wins_over_the_handlers_variable() -> None:
    config = configuration(environ={"GGWATCH_TABLE_NAME": "mine", "TABLE_NAME": "handlers"})
    assert (config.tracker_settings().TABLE_NAME, config.origin(TABLE)) == ("mine", "GGWATCH_TABLE_NAME")


def test_an_empty_variable_counts_as_unset() -> None:
    config = configuration(environ={"GGWATCH_TABLE_NAME": "", "TABLE_NAME": "handlers"})
    assert config.tracker_settings().TABLE_NAME == "handlers"


def test_the_stack_is_described_once_and_only_when_needed() -> None:
    # Given a table in the environment and a topic only in the stack's outputs
    outputs = Outputs({"TableName": "from-stack", "TopicArn": TOPIC_ARN})
    config = configuration(environ={"TABLE_NAME": "env"}, stack="ggwatch", outputs=outputs)
    # When both are needed, twice
    settings = config.poller_settings()
    config.poller_settings()
    # Then the environment decided the table, the stack the topic, with one DescribeStacks
    assert (settings.TABLE_NAME, settings.TOPIC_ARN) == ("env", TOPIC_ARN)
    assert config.origin(TOPIC) == "output TopicArn of stack 'ggwatch'"
    assert outputs.described == ["ggwatch"]


def test_the_stack_can_come_from_the_environment() -> None:
    outputs = Outputs({"TableName": "from-stack"})
    config = configuration(environ={"GGWATCH_STACK_NAME": "prod"}, outputs=outputs)
    assert config.tracker_settings().TABLE_NAME == "from-stack"
    assert outputs.described == ["prod"]


def test_a_missing_setting_names_every_way_to_provide_it() -> None:
    with pytest.raises(UsageError) as raised:
        configuration().tracker_settings()
    message = str(raised.value)
    for way in ("--table", "GGWATCH_TABLE_NAME", "TABLE_NAME", "--stack", "TableName"):
        assert way in message


def test_every_missing_setting_is_named_at_once() -> None:
    with pytest.raises(UsageError, match=r"no table name.*; no topic ARN.*--topic-arn"):
        configuration().poller_settings()


def test_a_stack_without_the_output_says_so() -> None:
    config = configuration(stack="ggwatch", outputs=Outputs({"TopicArn": TOPIC_ARN}))
    with pytest.raises(UsageError, match=r"stack 'ggwatch' has no TableName output; pass --table"):
        config.tracker_settings()


def test_an_invalid_value_is_rejected_naming_where_it_came_from() -> None:
    config = configuration({"--topic-arn": "not-an-arn"}, {"TABLE_NAME": "t"})
    with pytest.raises(UsageError, match=r"invalid topic ARN 'not-an-arn' \(from --topic-arn\)"):
        config.poller_settings()


def test_an_empty_flag_is_invalid_not_unset() -> None:
    config = configuration({"--table": ""}, {"TABLE_NAME": "t"})
    with pytest.raises(UsageError, match=r"invalid table name '' \(from --table\)"):
        config.tracker_settings()


def test_only_the_settings_a_command_needs_are_required() -> None:
    config = configuration(environ={"TABLE_NAME": "t", "TOPIC_ARN": OTHER_ARN})
    assert config.tracker_settings().TABLE_NAME == "t"
    assert configuration(environ={"TABLE_NAME": "t"}).tracker_settings().TABLE_NAME == "t"


@pytest.mark.parametrize(
    ("environ", "stack", "outputs", "bus", "origin"),
    [
        ({"EVENT_BUS_NAME": "ops"}, None, {}, "ops", "EVENT_BUS_NAME"),
        (
            {"GGWATCH_EVENT_BUS_NAME": "mine", "EVENT_BUS_NAME": "ops"},
            None,
            {},
            "mine",
            "GGWATCH_EVENT_BUS_NAME",
        ),
        ({}, "ggwatch", {"EventBusName": "default"}, "default", "output EventBusName of stack 'ggwatch'"),
        # none known (no stack, or one deployed before it had a bus): the topic only
        ({}, None, {}, None, "the default"),
        ({}, "ggwatch", {}, None, "the default (stack 'ggwatch' has no EventBusName)"),
    ],
)
def test_polling_finds_the_bus_like_the_topic_and_does_without_one(
    environ: dict[str, str], stack: str | None, outputs: dict[str, str], bus: str | None, origin: str
) -> None:
    found = {"TableName": "t", "TopicArn": TOPIC_ARN, **outputs}
    config = configuration(
        environ={"TABLE_NAME": "t", "TOPIC_ARN": TOPIC_ARN, **environ}, stack=stack, outputs=Outputs(found)
    )
    assert bus == config.poller_settings().EVENT_BUS_NAME
    assert config.origin(EVENT_BUS) == origin


def test_an_invalid_bus_name_is_rejected_naming_where_it_came_from() -> None:
    config = configuration(environ={"TABLE_NAME": "t", "TOPIC_ARN": TOPIC_ARN, "EVENT_BUS_NAME": "no spaces"})
    with pytest.raises(UsageError, match=r"invalid event bus name 'no spaces' \(from EVENT_BUS_NAME\)"):
        config.poller_settings()
