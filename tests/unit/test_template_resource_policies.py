"""Who may speak on the topic and the queues: the resource policies template.yaml attaches to them.

moto enforces neither SNS topic policies nor SQS queue policies (it evaluates identity policies at
most), so an integration test against moto would pass with any policy at all. These tests evaluate
the template's own policy documents instead, with the few IAM rules they rely on: an explicit Deny
wins, a negated condition operator matches when the request lacks the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pytest

from ggwatch_local.template import function_properties, load_template, resource, resources_of_type

Template = dict[str, Any]

POLLER_ROLE_ARN = {"Fn::GetAtt": ["PollerFunctionRole", "Arn"]}
"""The poller's role as the template names it; requests carry it symbolically."""
OTHER_ROLE_ARN = "arn:aws:iam::123456789012:role/Admin"
QUEUES = ("PollerScheduleDLQ", "TrackerEventsDLQ", "SlackNotifierDLQ", "FailedEventsDLQ")


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


@dataclass(frozen=True)
class Request:
    """What a resource policy sees of one request: the action, who asks, and over what transport."""

    action: str
    principal_arn: Any = None
    """None for a service principal, which carries no aws:PrincipalArn."""
    secure_transport: bool = True

    def key(self, name: str) -> Any:
        keys = {"aws:PrincipalArn": self.principal_arn, "aws:SecureTransport": self.secure_transport}
        return keys.get(name)


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    actual = request.key(key)
    if operator == "ArnNotEquals":
        return actual is None or actual != expected
    if operator == "ArnEquals":
        return actual is not None and actual == expected
    if operator == "Bool":
        return actual is not None and str(actual).lower() == str(expected).lower()
    raise AssertionError(f"the test evaluator does not know the condition operator {operator}")


def _applies(statement: dict[str, Any], request: Request) -> bool:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    if not any(fnmatchcase(request.action.lower(), action.lower()) for action in actions):
        return False
    return all(
        _condition_holds(operator, key, expected, request)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def denied(statements: list[dict[str, Any]], request: Request) -> bool:
    """True when an explicit Deny of the policy matches the request."""
    return any(s["Effect"] == "Deny" and _applies(s, request) for s in statements)


def policy_of(template: Template, policy_type: str, targets: str, target: str) -> list[dict[str, Any]]:
    """The statements of the one policy resource of `policy_type` attached to `target`."""
    (policy,) = [
        body
        for body in resources_of_type(template, policy_type).values()
        if {"Ref": target} in body["Properties"][targets]
    ]
    assert policy["Properties"][targets] == [{"Ref": target}], "one policy per resource"
    assert policy.get("Condition") == resource(template, target).get("Condition")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert isinstance(statements, list)
    return [branch for statement in statements for branch in _branches(statement)]


def _branches(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """A statement a condition keeps (`Fn::If`) counts as present: every check must hold with it."""
    if "Fn::If" not in statement:
        return [statement]
    _, on, off = statement["Fn::If"]
    return [branch for branch in (on, off) if branch != {"Ref": "AWS::NoValue"}]


def topic_policy(template: Template) -> list[dict[str, Any]]:
    statements = policy_of(template, "AWS::SNS::TopicPolicy", "Topics", "NotificationsTopic")
    for statement in statements:
        # SNS accepts exactly one resource per statement: the policy's own topic.
        assert statement["Resource"] == {"Ref": "NotificationsTopic"}
    return statements


def queue_policy(template: Template, queue: str) -> list[dict[str, Any]]:
    statements = policy_of(template, "AWS::SQS::QueuePolicy", "Queues", queue)
    for statement in statements:
        assert statement["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
    return statements


# ---------------------------------------------------------------- the topic


def test_the_poller_publishes_over_tls(template: Template) -> None:
    assert not denied(topic_policy(template), Request("sns:Publish", POLLER_ROLE_ARN))


@pytest.mark.parametrize(
    "principal",
    [OTHER_ROLE_ARN, "arn:aws:iam::123456789012:user/ops", None],
    ids=["another-role", "a-user", "a-service"],
)
def test_no_other_principal_may_publish(template: Template, principal: Any) -> None:
    assert denied(topic_policy(template), Request("sns:Publish", principal))


def test_the_poller_cannot_publish_without_tls(template: Template) -> None:
    assert denied(topic_policy(template), Request("sns:Publish", POLLER_ROLE_ARN, secure_transport=False))


@pytest.mark.parametrize("action", ["sns:Subscribe", "sns:SetTopicAttributes", "sns:GetTopicAttributes"])
def test_every_other_topic_action_needs_tls_but_is_not_otherwise_denied(
    template: Template, action: str
) -> None:
    statements = topic_policy(template)
    assert denied(statements, Request(action, OTHER_ROLE_ARN, secure_transport=False))
    assert not denied(statements, Request(action, OTHER_ROLE_ARN))


def test_the_role_allowed_to_publish_is_the_one_the_poller_runs_as(template: Template) -> None:
    poller = function_properties(template, "PollerFunction")
    # Without a Role, SAM generates one named <Function>Role.
    runs_as = poller.get("Role", {"Fn::GetAtt": ["PollerFunctionRole", "Arn"]})
    assert runs_as == POLLER_ROLE_ARN
    (publish_rule,) = [s for s in topic_policy(template) if "aws:PrincipalArn" in str(s.get("Condition"))]
    assert publish_rule["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": runs_as}}


# ---------------------------------------------------------------- the queues


def test_every_queue_is_one_the_tls_test_below_covers(template: Template) -> None:
    assert set(resources_of_type(template, "AWS::SQS::Queue")) == set(QUEUES)


@pytest.mark.parametrize("queue", QUEUES)
@pytest.mark.parametrize("action", ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:PurgeQueue"])
def test_every_queue_refuses_requests_without_tls(template: Template, queue: str, action: str) -> None:
    statements = queue_policy(template, queue)
    assert denied(statements, Request(action, OTHER_ROLE_ARN, secure_transport=False))
    assert denied(statements, Request(action, None, secure_transport=False))
    assert not denied(statements, Request(action, OTHER_ROLE_ARN))


def test_the_device_event_rule_may_still_send_its_dead_letters(template: Template) -> None:
    statements = queue_policy(template, "PollerScheduleDLQ")
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert not denied(statements, Request("sqs:SendMessage", None))


@pytest.mark.parametrize("queue", ["TrackerEventsDLQ", "FailedEventsDLQ"])
def test_the_trackers_and_the_failed_deployments_rules_may_still_send_their_dead_letters(
    template: Template, queue: str
) -> None:
    statements = queue_policy(template, queue)
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert not denied(statements, Request("sqs:SendMessage", None))
