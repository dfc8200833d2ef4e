"""The template's EventBridge pieces: the bus parameter, and the optional rule for failed deployments."""

from __future__ import annotations

from re import fullmatch
from typing import Any

import pytest

from ggwatch.settings import ConfigurationError
from ggwatch.settings.poller import PollerSettings
from ggwatch_local.template import Resolver, load_template, resource

TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-failures"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:rollback"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/failed"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:failed-dlq"
OPTIONAL = (
    "FailedDeploymentsRule",
    "FailedEventsFunctionPermission",
    "FailedEventsDLQ",
    "FailedEventsDLQPolicy",
)


def stack(**parameters: str) -> Resolver:
    return Resolver(
        load_template(),
        stack_name="ggwatch",
        parameters=parameters,
        resources={
            "FailedDeploymentsRule.Arn": RULE_ARN,
            "FailedEventsDLQ.Arn": DLQ_ARN,
            "FailedEventsDLQ": "https://sqs.us-east-1.amazonaws.com/123456789012/failed-dlq",
        },
    )


def created(resolver: Resolver, logical_id: str) -> bool:
    condition = resource(resolver.template, logical_id).get("Condition")
    return condition is None or resolver.condition(condition)


def test_events_go_to_the_default_bus_unless_another_is_named() -> None:
    parameter = load_template()["Parameters"]["EventBusName"]
    assert parameter["Default"] == "default"
    for name in ("default", "ggwatch-events", "org/ops.bus_1"):
        assert fullmatch(parameter["AllowedPattern"], name)
        PollerSettings.from_env({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "EVENT_BUS_NAME": name})
    # An ARN would make the poller's grant (built from the name) name no bus at all
    assert not fullmatch(parameter["AllowedPattern"], "arn:aws:events:us-east-1:123456789012:event-bus/x")


def test_a_bus_setting_that_names_no_bus_fails_at_cold_start_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="EVENT_BUS_NAME"):
        PollerSettings.from_env({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "EVENT_BUS_NAME": "ops bus"})
    assert PollerSettings.from_env({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC}).EVENT_BUS_NAME is None


def test_without_a_target_no_rule_is_created() -> None:
    assert not any(created(stack(), logical_id) for logical_id in OPTIONAL)


@pytest.mark.parametrize(
    ("parameters", "targets", "permission"),
    [
        ({"FailedEventsTopicArn": TOPIC}, [TOPIC], False),
        ({"FailedEventsFunctionArn": FUNCTION}, [FUNCTION], True),
        ({"FailedEventsTopicArn": TOPIC, "FailedEventsFunctionArn": FUNCTION}, [TOPIC, FUNCTION], True),
    ],
)
def test_a_target_creates_the_rule_on_the_bus_with_its_dead_letter_queue(
    parameters: dict[str, str], targets: list[str], permission: bool
) -> None:
    resolver = stack(EventBusName="ops", **parameters)
    rule: dict[str, Any] = resolver(resource(resolver.template, "FailedDeploymentsRule")["Properties"])
    assert created(resolver, "FailedDeploymentsRule")
    assert rule["EventBusName"] == "ops"
    assert [target["Arn"] for target in rule["Targets"]] == targets
    assert all(target["DeadLetterConfig"]["Arn"] == DLQ_ARN for target in rule["Targets"])
    assert created(resolver, "FailedEventsDLQ") and created(resolver, "FailedEventsDLQPolicy")
    assert created(resolver, "FailedEventsFunctionPermission") is permission


def test_only_the_rule_may_invoke_the_function_and_send_to_its_dead_letter_queue() -> None:
    resolver = stack(FailedEventsFunctionArn=FUNCTION)
    grant = resolver(resource(resolver.template, "FailedEventsFunctionPermission")["Properties"])
    assert grant == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": FUNCTION,
        "Principal": "events.amazonaws.com",
        "SourceArn": RULE_ARN,
    }
    policy = resolver(resource(resolver.template, "FailedEventsDLQPolicy")["Properties"])["PolicyDocument"]
    [allow] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE_ARN}}
