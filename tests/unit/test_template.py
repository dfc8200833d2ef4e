"""template.yaml declares what the design promises: least privilege, durable state, wiring, alarms.

These tests read the SAM template itself (not a deployed stack); `sam validate --lint`, cfn-lint and
checkov check it against AWS's schemas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ggwatch.settings.poller import PollerSettings
from ggwatch_local.template import (
    TEMPLATE_PATH,
    Resolver,
    dynamodb_table_definition,
    function_properties,
    load_template,
    resource,
    resources_of_type,
    stack_variables,
    ttl_attribute,
)

Template = dict[str, Any]
Grant = tuple[str, str, str]

FUNCTIONS = {
    "PollerFunction": "poller",
    "TrackerFunction": "tracker",
    "SlackNotifierFunction": "slack_notifier",
}
TABLE_ARN = {"Fn::GetAtt": ["DeploymentsTable", "Arn"]}
ACTIVE_INDEX_ARN = {"Fn::Sub": "${DeploymentsTable.Arn}/index/active-index"}
BULK_DEPLOYMENTS_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:greengrass:*:${AWS::AccountId}:/greengrass/bulk/deployments/*"
}
IN_POLLED_REGIONS = {
    "StringEquals": {
        "aws:RequestedRegion": {
            "Fn::If": [
                "HasPollRegions",
                {"Fn::Split": [",", {"Fn::Sub": "${AWS::Region},${PollRegions}"}]},
                [{"Ref": "AWS::Region"}],
            ]
        }
    }
}
"""Greengrass and IoT are read only in the stack's region and its PollRegions."""
NOTIFICATIONS_TOPIC_ARN = {"Ref": "NotificationsTopic"}
SLACK_SECRET_ARN = {"Ref": "SlackWebhooksSecretArn"}
REPOSITORY = TEMPLATE_PATH.parent
CLOUDWATCH_LOG_RETENTION_VALUES = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]  # fmt: skip
STACK_NAMESPACE = {"Fn::If": ["HasMetricsNamespace", {"Ref": "MetricsNamespace"}, {"Ref": "AWS::StackName"}]}
ALARM_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


# ---------------------------------------------------------------- helpers


def leading_keys(*prefixes: str) -> dict[str, Any]:
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(prefixes)}}


def grants(actions: list[str], resource_arn: Any, condition: dict[str, Any] | None = None) -> set[Grant]:
    """One (action, resource, condition) triple per action, JSON-encoded so they compare as sets."""
    return {
        (action, json.dumps(resource_arn, sort_keys=True), json.dumps(condition, sort_keys=True))
        for action in actions
    }


ROLES = {function: f"{function}Role" for function in FUNCTIONS}
TRACE_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
"""Active tracing's writes: X-Ray has no resource-level permissions, so these are granted on "*"."""


def role_of(template: Template, function: str) -> dict[str, Any]:
    """The AWS::IAM::Role the function runs as (its `Role` is that role's ARN)."""
    role_arn = function_properties(template, function)["Role"]
    assert set(role_arn) == {"Fn::GetAtt"}, f"{function} must run as a role of this template"
    logical_id, attribute = role_arn["Fn::GetAtt"]
    assert attribute == "Arn"
    role = resource(template, logical_id)
    assert role["Type"] == "AWS::IAM::Role"
    return role


def statements_of(
    template: Template, function: str, condition: Callable[[str], bool] = lambda name: False
) -> list[dict[str, Any]]:
    """Every statement of the function's role: its inline policies, and the AWS::IAM::RolePolicy
    resources on it whose Condition holds (`condition` says which template Conditions do)."""
    statements: list[dict[str, Any]] = []
    for policy in role_of(template, function)["Properties"].get("Policies", []):
        statements.extend(policy["PolicyDocument"]["Statement"])
    role_id = function_properties(template, function)["Role"]["Fn::GetAtt"][0]
    for policy in resources_of_type(template, "AWS::IAM::RolePolicy").values():
        holds = "Condition" not in policy or condition(policy["Condition"])
        if policy["Properties"]["RoleName"] == {"Ref": role_id} and holds:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def own_log_streams(log_group: str) -> dict[str, str]:
    return {
        "Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{log_group}}}:*"
    }


def runtime_grants(log_group: str) -> set[Grant]:
    """What Lambda itself does as the role: write the function's logs and traces."""
    return grants(["logs:CreateLogStream", "logs:PutLogEvents"], own_log_streams(log_group)) | grants(
        TRACE_ACTIONS, "*"
    )


def granted(template: Template, function: str) -> set[Grant]:
    result: set[Grant] = set()
    for statement in statements_of(template, function):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        result |= grants(
            [actions] if isinstance(actions, str) else actions,
            statement["Resource"],
            statement.get("Condition"),
        )
    return result


def fullmatch(pattern: str, value: str) -> bool:
    """CloudFormation AllowedPattern semantics: the whole value must match."""
    return re.fullmatch(pattern, value) is not None


def event_of(template: Template, function: str, event_type: str) -> dict[str, Any]:
    events = function_properties(template, function)["Events"]
    (properties,) = [e["Properties"] for e in events.values() if e["Type"] == event_type]
    assert isinstance(properties, dict)
    return properties


# ---------------------------------------------------------------- loader


def test_loader_expands_short_tags_and_keeps_dates_as_strings(tmp_path: Path) -> None:
    source = tmp_path / "t.yaml"
    source.write_text(
        "AWSTemplateFormatVersion: 2010-09-09\n"
        "Resources:\n"
        "  A:\n"
        "    Type: X\n"
        "    Properties:\n"
        "      Arn: !GetAtt B.Arn\n"
        "      Name: !Sub ${AWS::StackName}-a\n"
        "      Pick: !If [C, !Ref D, !Ref AWS::NoValue]\n"
        "      Parts: !Split [',', !ImportValue E]\n",
        encoding="utf-8",
    )
    loaded = load_template(source)
    assert loaded["AWSTemplateFormatVersion"] == "2010-09-09"
    assert loaded["Resources"]["A"]["Properties"] == {
        "Arn": {"Fn::GetAtt": ["B", "Arn"]},
        "Name": {"Fn::Sub": "${AWS::StackName}-a"},
        "Pick": {"Fn::If": ["C", {"Ref": "D"}, {"Ref": "AWS::NoValue"}]},
        "Parts": {"Fn::Split": [",", {"Fn::ImportValue": "E"}]},
    }


def test_loader_finds_the_repository_template() -> None:
    assert TEMPLATE_PATH.name == "template.yaml"
    assert TEMPLATE_PATH.is_file()


def test_the_resolver_resolves_refs_attributes_subs_and_conditions() -> None:
    template = load_template()
    resolve = Resolver(
        template,
        stack_name="s",
        parameters={"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alarms"},
        resources={"DeploymentsTable.Arn": "arn:table", "PollerLogGroup": "/aws/lambda/s-poller"},
    )
    assert resolve({"Fn::Sub": "${DeploymentsTable.Arn}/index/x-${AWS::StackName}-${!Literal}"}) == (
        "arn:table/index/x-s-${Literal}"
    )
    assert resolve({"Fn::Sub": ["${a}:${PollerLogGroup}", {"a": {"Ref": "AWS::Region"}}]}) == (
        "us-east-1:/aws/lambda/s-poller"
    )
    assert resolve({"Ref": "RetentionDays"}) == 30, "a parameter not given takes its default"
    assert resolve({"AlarmActions": ALARM_ACTIONS}) == {
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:alarms"]
    }
    assert resolve.condition("HasAlarmTopic") is True
    assert resolve.condition("HasSlack") is False
    without_topic = Resolver(template, stack_name="s")
    assert without_topic({"AlarmActions": ALARM_ACTIONS, "X": 1}) == {"X": 1}, "AWS::NoValue drops the key"


def test_the_resolver_names_what_it_cannot_resolve() -> None:
    resolve = Resolver(load_template(), stack_name="s")
    with pytest.raises(ValueError, match="NotificationsTopic"):
        resolve({"Ref": "NotificationsTopic"})
    with pytest.raises(ValueError, match="Fn::Select"):
        resolve({"Fn::Select": [0, ["a"]]})


# ---------------------------------------------------------------- functions


def test_template_is_described_and_uses_the_sam_transform(template: Template) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert len(template["Description"]) > 40


def test_the_template_declares_exactly_the_three_functions(template: Template) -> None:
    assert set(resources_of_type(template, "AWS::Serverless::Function")) == set(FUNCTIONS)


@pytest.mark.parametrize(("function", "directory"), FUNCTIONS.items())
def test_every_function_runs_python313_on_arm64_with_tracing_and_the_layer(
    template: Template, function: str, directory: str
) -> None:
    properties = function_properties(template, function)
    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Tracing"] == "Active"
    assert properties["Layers"] == [{"Ref": "GgwatchLayer"}]
    assert properties["CodeUri"] == f"functions/{directory}/"
    assert properties["Handler"] == "app.lambda_handler"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_gets_the_powertools_settings(template: Template, function: str) -> None:
    variables = function_properties(template, function)["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == STACK_NAMESPACE
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == STACK_NAMESPACE
    assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert variables["LOG_LEVEL"] == "INFO"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_scans_for_pydantic_plugins_at_cold_start(template: Template, function: str) -> None:
    variables = function_properties(template, function)["Environment"]["Variables"]
    assert variables["PYDANTIC_DISABLE_PLUGINS"] == "__all__"


def metric_names(template: Template, stack_name: str, **parameters: str) -> set[tuple[str, str]]:
    """(namespace, service) of every function's metrics and of every custom metric alarm of a stack."""
    resolve = Resolver(template, stack_name=stack_name, parameters=parameters)
    names = set()
    for function in FUNCTIONS:
        variables = function_properties(template, function)["Environment"]["Variables"]
        names.add(
            (
                resolve(variables["POWERTOOLS_METRICS_NAMESPACE"]),
                resolve(variables["POWERTOOLS_SERVICE_NAME"]),
            )
        )
    for alarm in custom_metric_alarms(template).values():
        ((service,),) = [[d["Value"] for d in resolve(alarm["Dimensions"]) if d["Name"] == "service"]]
        names.add((resolve(alarm["Namespace"]), service))
    return names


def test_two_stacks_in_one_account_count_their_metrics_apart(template: Template) -> None:
    # Given two stacks deployed with the default parameters
    first = metric_names(template, "ggwatch-prod")
    second = metric_names(template, "ggwatch-staging")
    # Then each stack's functions and alarms agree on one namespace, and the two namespaces differ
    assert first == {("ggwatch-prod", "ggwatch-prod")}
    assert second == {("ggwatch-staging", "ggwatch-staging")}


def test_an_explicit_metrics_namespace_names_the_metrics_and_the_alarms(template: Template) -> None:
    assert template["Parameters"]["MetricsNamespace"]["Default"] == ""
    assert metric_names(template, "ggwatch-prod", MetricsNamespace="ops/ggwatch") == {
        ("ops/ggwatch", "ops/ggwatch")
    }


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("", True), ("ggwatch", True), ("ops/ggwatch-prod_1.v2", True), ("AWS/Lambda", False), ("a b", False)],
)
def test_the_metrics_namespace_must_be_empty_or_a_custom_cloudwatch_namespace(
    template: Template, value: str, allowed: bool
) -> None:
    assert fullmatch(template["Parameters"]["MetricsNamespace"]["AllowedPattern"], value) is allowed


def test_the_local_stack_names_its_metrics_after_itself(template: Template) -> None:
    assert stack_variables(template, "ggwatch-local") == {
        "POWERTOOLS_SERVICE_NAME": "ggwatch-local",
        "POWERTOOLS_METRICS_NAMESPACE": "ggwatch-local",
    }


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (
            "PollerFunction",
            {
                "TABLE_NAME": {"Ref": "DeploymentsTable"},
                "TOPIC_ARN": {"Ref": "NotificationsTopic"},
                "RETENTION_DAYS": {"Ref": "RetentionDays"},
                "SETTLED_POLL_MINUTES": {"Ref": "SettledPollMinutes"},
                "EVENT_BUS_NAME": {"Ref": "EventBusName"},
                "POLL_REGIONS": {"Ref": "PollRegions"},
                "STUCK_V1_STATUS_MINUTES": {"Ref": "StuckV1StatusMinutes"},
                "STUCK_V1_PROGRESS_MINUTES": {"Ref": "StuckV1ProgressMinutes"},
                "STUCK_V2_STATUS_MINUTES": {"Ref": "StuckV2StatusMinutes"},
                "STUCK_V2_PROGRESS_MINUTES": {"Ref": "StuckV2ProgressMinutes"},
                "PROGRESS_STEP_PERCENT": {"Ref": "ProgressStepPercent"},
                "POLL_CONCURRENCY": {"Ref": "PollConcurrency"},
            },
        ),
        (
            "TrackerFunction",
            {
                "TABLE_NAME": {"Ref": "DeploymentsTable"},
                "RETENTION_DAYS": {"Ref": "RetentionDays"},
                "POLL_REGIONS": {"Ref": "PollRegions"},
            },
        ),
        (
            "SlackNotifierFunction",
            {
                "SLACK_WEBHOOKS_SECRET_ARN": {"Ref": "SlackWebhooksSecretArn"},
                "TABLE_NAME": {"Ref": "DeploymentsTable"},
            },
        ),
    ],
)
def test_each_function_is_told_exactly_the_resources_it_uses(
    template: Template, function: str, expected: dict[str, Any]
) -> None:
    own = resource(template, function)["Properties"]["Environment"]["Variables"]
    assert own == expected


def test_timeouts_fit_the_triggers(template: Template) -> None:
    poller = function_properties(template, "PollerFunction")
    assert poller["Timeout"] < 60, "a poll must end before the next 1-minute run"
    assert poller["MemorySize"] == 1769, "one full vCPU: an idle poll is CPU-bound (README: Benchmark)"
    assert function_properties(template, "TrackerFunction")["Timeout"] == 10
    assert function_properties(template, "SlackNotifierFunction")["Timeout"] == 30


def test_only_the_slack_notifier_reserves_concurrency_one_to_pace_slack_posts(template: Template) -> None:
    for function in FUNCTIONS:
        reserved = function_properties(template, function).get("ReservedConcurrentExecutions")
        assert reserved == (1 if function == "SlackNotifierFunction" else None)
    invoke = function_properties(template, "SlackNotifierFunction")["EventInvokeConfig"]
    assert invoke["MaximumEventAgeInSeconds"] == 6 * 3600, "a burst waits in the queue, paced"


def test_the_layer_is_built_for_python313_on_arm64(template: Template) -> None:
    layer = resource(template, "GgwatchLayer")
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (Path(__file__).resolve().parents[2] / "layers" / "ggwatch" / "Makefile").read_text()
    assert "--platform manylinux2014_aarch64 --implementation cp --python-version 3.13" in makefile
    assert layer["Properties"]["ContentUri"] == "layers/ggwatch/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


# ---------------------------------------------------------------- least privilege


def test_the_poller_may_only_query_the_active_index_read_its_cursor_write_its_items_and_publish(
    template: Template,
) -> None:
    assert granted(template, "PollerFunction") == (
        runtime_grants("PollerLogGroup")
        | grants(["dynamodb:Query"], ACTIVE_INDEX_ARN)
        | grants(["dynamodb:GetItem"], TABLE_ARN, leading_keys("POLLER#cursor#*"))
        | grants(["dynamodb:UpdateItem"], TABLE_ARN, leading_keys("DEPLOYMENT#*", "POLLER#cursor#*"))
        | grants(
            ["greengrass:GetBulkDeploymentStatus", "greengrass:ListBulkDeploymentDetailedReports"],
            BULK_DEPLOYMENTS_ARN,
            IN_POLLED_REGIONS,
        )
        | grants(["greengrass:GetDeployment"], _in_account("greengrass", "deployments:*"), IN_POLLED_REGIONS)
        | grants(
            ["iot:DescribeJob", "iot:ListJobExecutionsForJob"], _in_account("iot", "job/*"), IN_POLLED_REGIONS
        )
        | grants(
            ["greengrass:ListEffectiveDeployments"],
            _in_account("greengrass", "coreDevices:*"),
            IN_POLLED_REGIONS,
        )
        | grants(["sns:Publish"], NOTIFICATIONS_TOPIC_ARN)
        | grants(
            ["events:PutEvents"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"
            },
        )
        | grants(["sqs:SendMessage"], {"Fn::GetAtt": ["PollerScheduleDLQ", "Arn"]})
    )


def test_the_poller_may_start_runs_of_its_own_function_only_when_it_polls_other_regions(
    template: Template,
) -> None:
    # (without PollRegions the role is exactly what the test above lists)
    starting = {
        statement["Sid"]: statement
        for statement in statements_of(template, "PollerFunction", lambda name: name == "HasPollRegions")
    }["StartRegionRuns"]
    assert (starting["Action"], starting["Resource"]) == (
        "lambda:InvokeFunction",
        {"Fn::GetAtt": ["PollerFunction", "Arn"]},
    )
    assert resource(template, "PollerRegionRunsPolicy")["Condition"] == "HasPollRegions"


def _in_account(service: str, resource: str) -> dict[str, str]:
    """A resource ARN of this stack's partition and account in any region, which the grant's
    aws:RequestedRegion condition narrows (the V2 grants' resource types: greengrass
    `deployments:<id>` and `coreDevices:<thing>`, iot `job/<id>`)."""
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:*:${{AWS::AccountId}}:{resource}"}


def test_the_tracker_may_only_touch_deployment_items_and_dead_letter_failed_events(
    template: Template,
) -> None:
    assert granted(template, "TrackerFunction") == (
        runtime_grants("TrackerLogGroup")
        | grants(["dynamodb:UpdateItem"], TABLE_ARN, leading_keys("DEPLOYMENT#*"))
        | grants(["sqs:SendMessage"], {"Fn::GetAtt": ["TrackerEventsDLQ", "Arn"]})
    )


def test_the_slack_notifier_may_only_read_its_secret_touch_delivery_items_and_dead_letter(
    template: Template,
) -> None:
    assert granted(template, "SlackNotifierFunction") == (
        runtime_grants("SlackNotifierLogGroup")
        | grants(["secretsmanager:GetSecretValue"], SLACK_SECRET_ARN)
        | grants(
            ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            TABLE_ARN,
            leading_keys("DELIVERY#*"),
        )
        | grants(["sqs:SendMessage"], {"Fn::GetAtt": ["SlackNotifierDLQ", "Arn"]})
    )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_xray_is_granted_on_every_resource_and_no_action_is_a_wildcard(
    template: Template, function: str
) -> None:
    for statement in statements_of(template, function):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)
        if statement["Resource"] == "*":
            assert actions == TRACE_ACTIONS


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_runs_as_its_own_role_without_managed_policies(
    template: Template, function: str
) -> None:
    # A role SAM generates would carry AWSLambdaBasicExecutionRole: logs:CreateLogGroup on "*".
    properties = function_properties(template, function)
    assert properties["Role"] == {"Fn::GetAtt": [ROLES[function], "Arn"]}
    assert "Policies" not in properties, "SAM ignores Policies next to a Role"
    role = resource(template, ROLES[function])
    assert role.get("Condition") == resource(template, function).get("Condition")
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "PermissionsBoundary" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    granted_actions = {action for action, _resource, _condition in granted(template, function)}
    assert "logs:CreateLogGroup" not in granted_actions


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_writes_logs_only_to_its_own_log_group(template: Template, function: str) -> None:
    log_group = function_properties(template, function)["LoggingConfig"]["LogGroup"]["Ref"]
    log_grants = {g for g in granted(template, function) if g[0].startswith("logs:")}
    assert {resource_arn for _action, resource_arn, _condition in log_grants} == {
        json.dumps(own_log_streams(log_group), sort_keys=True)
    }


def test_the_greengrass_grant_uses_the_bulk_deployment_resource_format(template: Template) -> None:
    # Service authorization reference, resource type bulkDeployment:
    # arn:${Partition}:greengrass:${Region}:${Account}:/greengrass/bulk/deployments/${BulkDeploymentId}
    (arn,) = [
        s["Resource"]["Fn::Sub"]
        for s in statements_of(template, "PollerFunction")
        if "greengrass:GetBulkDeploymentStatus" in s["Action"]
    ]
    assert arn.endswith(":/greengrass/bulk/deployments/*")
    assert arn.startswith("arn:${AWS::Partition}:greengrass:*:${AWS::AccountId}:")


# ---------------------------------------------------------------- state


def test_the_table_has_one_string_key_and_a_sparse_active_index(template: Template) -> None:
    definition = dynamodb_table_definition(template)
    assert definition["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert sorted(definition["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "activeKind", "AttributeType": "S"},
        {"AttributeName": "pk", "AttributeType": "S"},
    ]
    assert definition["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "active-index",
            "KeySchema": [
                {"AttributeName": "activeKind", "KeyType": "HASH"},
                {"AttributeName": "pk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert definition["BillingMode"] == "PAY_PER_REQUEST"


def test_the_table_expires_items_recovers_to_a_point_in_time_and_is_encrypted(template: Template) -> None:
    properties = resource(template, "DeploymentsTable")["Properties"]
    assert ttl_attribute(template) == "expiresAt"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert "ProvisionedThroughput" not in properties


def test_the_topic_is_encrypted_with_the_aws_managed_key(template: Template) -> None:
    assert resource(template, "NotificationsTopic")["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


def test_every_queue_is_encrypted_and_keeps_dead_letters_for_14_days(template: Template) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert set(queues) == {"PollerScheduleDLQ", "TrackerEventsDLQ", "SlackNotifierDLQ", "FailedEventsDLQ"}
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == 1_209_600


# ---------------------------------------------------------------- logs


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_logs_to_its_own_log_group_with_retention(template: Template, function: str) -> None:
    log_group = function_properties(template, function)["LoggingConfig"]["LogGroup"]
    assert set(log_group) == {"Ref"}
    group = resource(template, log_group["Ref"])
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group.get("Condition") == resource(template, function).get("Condition")


def test_log_retention_accepts_only_values_cloudwatch_accepts(template: Template) -> None:
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 30
    assert parameter["AllowedValues"] == CLOUDWATCH_LOG_RETENTION_VALUES


# ---------------------------------------------------------------- triggers


def test_the_poller_runs_on_the_polling_schedule_without_retries_and_with_a_dlq(template: Template) -> None:
    schedule = event_of(template, "PollerFunction", "ScheduleV2")
    assert schedule["ScheduleExpression"] == {"Ref": "PollingSchedule"}
    assert schedule["RetryPolicy"] == {"MaximumRetryAttempts": 0}
    assert schedule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["PollerScheduleDLQ", "Arn"]}}
    assert schedule["OmitName"] is True
    assert json.loads(schedule["Input"])["scheduledTime"] == "<aws.scheduler.scheduled-time>"
    invoke = function_properties(template, "PollerFunction")["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 0, "Lambda must not replay a failed poll either"


def test_lambda_records_a_failed_or_dropped_poll_in_the_pollers_dlq(template: Template) -> None:
    invoke = function_properties(template, "PollerFunction")["EventInvokeConfig"]
    assert invoke["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["PollerScheduleDLQ", "Arn"]},
    }
    # Lambda sends to the destination as the function's role.
    assert grants(["sqs:SendMessage"], {"Fn::GetAtt": ["PollerScheduleDLQ", "Arn"]}) <= granted(
        template, "PollerFunction"
    )


@pytest.mark.parametrize(
    ("expression", "allowed"),
    [
        ("rate(1 minute)", True),
        ("rate(5 minutes)", True),
        ("rate(2 hours)", True),
        ("cron(0/2 * * * ? *)", True),
        ("rate(0 minutes)", False),
        ("every minute", False),
        ("", False),
    ],
)
def test_the_polling_schedule_accepts_rate_and_cron_expressions(
    template: Template, expression: str, allowed: bool
) -> None:
    parameter = template["Parameters"]["PollingSchedule"]
    assert parameter["Default"] == "rate(1 minute)"
    assert fullmatch(parameter["AllowedPattern"], expression) is allowed


def test_the_tracker_hears_successful_and_failed_v2_create_and_v1_bulk_start_calls(
    template: Template,
) -> None:
    rule = event_of(template, "TrackerFunction", "EventBridgeRule")
    assert rule["Pattern"] == {
        "source": ["aws.greengrass"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["greengrass.amazonaws.com"],
            "eventName": ["CreateDeployment", "StartBulkDeployment"],
        },
    }
    assert rule["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}
    assert rule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["TrackerEventsDLQ", "Arn"]}}


def test_only_the_trackers_rule_may_send_to_its_dlq(template: Template) -> None:
    events = resource(template, "TrackerFunction")["Properties"]["Events"]
    (rule_name,) = [name for name, e in events.items() if e["Type"] == "EventBridgeRule"]
    policy = resource(template, "TrackerEventsDLQPolicy")["Properties"]
    assert policy["Queues"] == [{"Ref": "TrackerEventsDLQ"}]
    (statement,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["TrackerEventsDLQ", "Arn"]}
    # SAM names the rule it generates <Function><EventName>.
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [f"TrackerFunction{rule_name}", "Arn"]}}
    }


def test_the_slack_notifier_subscribes_to_the_topic_and_dead_letters_after_two_retries(
    template: Template,
) -> None:
    assert event_of(template, "SlackNotifierFunction", "SNS") == {"Topic": {"Ref": "NotificationsTopic"}}
    invoke = function_properties(template, "SlackNotifierFunction")["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["SlackNotifierDLQ", "Arn"]},
    }


# ---------------------------------------------------------------- optional Slack


def test_slack_is_optional_and_off_by_default(template: Template) -> None:
    assert template["Conditions"]["HasSlack"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SlackWebhooksSecretArn"}, ""]}]
    }
    assert template["Parameters"]["SlackWebhooksSecretArn"]["Default"] == ""
    slack_only = {
        "SlackNotifierFunction",
        "SlackNotifierFunctionRole",
        "SlackNotifierLogGroup",
        "SlackNotifierDLQ",
        "SlackNotifierDLQPolicy",
        "SlackNotifierDLQAlarm",
        "SlackNotifierEventsDroppedAlarm",
    }
    conditional = {
        name for name, body in template["Resources"].items() if body.get("Condition") == "HasSlack"
    }
    assert conditional == slack_only


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("", True),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:ggwatch/slack-AbC123", True),
        ("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:slack-AbC123", True),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:ggwatch/slack", False),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/slack-AbC123", False),
        ("https://hooks.slack.com/services/T000/B000/XXXX", False),
    ],
)
def test_the_slack_secret_must_be_empty_or_a_full_secret_arn(
    template: Template, value: str, allowed: bool
) -> None:
    assert fullmatch(template["Parameters"]["SlackWebhooksSecretArn"]["AllowedPattern"], value) is allowed


# ---------------------------------------------------------------- alarms


def alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {
        name: body["Properties"]
        for name, body in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
    }


def custom_metric_alarms(template: Template) -> dict[str, dict[str, Any]]:
    """Alarms on the code's own (Powertools) metrics rather than on an AWS service's."""
    return {
        name: alarm
        for name, alarm in alarms(template).items()
        if not str(alarm["Namespace"]).startswith("AWS/")
    }


def test_every_alarm_notifies_the_optional_alarm_topic_and_only_the_heartbeat_alarms_on_silence(
    template: Template,
) -> None:
    assert template["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }
    for name, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == ALARM_ACTIONS, name
        expected = "breaching" if name == "PollerHeartbeatAlarm" else "notBreaching"
        assert alarm["TreatMissingData"] == expected, name
        assert alarm["AlarmDescription"], name


def test_a_poller_that_stops_running_raises_the_heartbeat_alarm(template: Template) -> None:
    alarm = alarms(template)["PollerHeartbeatAlarm"]
    # Every run reports DeploymentsPolled, 0 included: the count of reports is the heartbeat.
    assert (alarm["MetricName"], alarm["Statistic"]) == ("DeploymentsPolled", "SampleCount")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "LessThanThreshold")
    assert alarm["TreatMissingData"] == "breaching", "no run at all must alarm"
    # Every minute of the window silent, so one late run does not alarm.
    assert alarm["Period"] == 60
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == {"Ref": "PollerSilenceMinutes"}
    silence = template["Parameters"]["PollerSilenceMinutes"]
    assert silence["Default"] >= 2, "a single missed minute is jitter, not a stop"
    assert silence["MaxValue"] * alarm["Period"] <= 86_400, "CloudWatch evaluates at most a day"


def test_deadlines_reached_run_after_run_raise_an_alarm(template: Template) -> None:
    alarm = alarms(template)["DeadlineReachedAlarm"]
    assert (alarm["MetricName"], alarm["Statistic"]) == ("DeadlineReached", "Sum")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3, "repeating, not once"
    assert alarm["Period"] == 300


ASYNC_EVENT_TYPES = {"ScheduleV2", "EventBridgeRule", "SNS"}
"""Event sources that invoke a function asynchronously."""


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_async_function_alarms_when_lambda_drops_an_event(template: Template, function: str) -> None:
    events = function_properties(template, function)["Events"].values()
    assert {event["Type"] for event in events} <= ASYNC_EVENT_TYPES, "every trigger is asynchronous"
    (alarm_name,) = [
        name
        for name, alarm in alarms(template).items()
        if alarm["MetricName"] == "AsyncEventsDropped"
        and alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]
    alarm = alarms(template)[alarm_name]
    assert (alarm["Namespace"], alarm["Statistic"]) == ("AWS/Lambda", "Sum")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert resource(template, alarm_name).get("Condition") == resource(template, function).get("Condition")


def test_the_poller_alarms_on_any_error(template: Template) -> None:
    alarm = alarms(template)["PollerErrorsAlarm"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "PollerFunction"}}]
    assert (alarm["Period"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        300,
        1,
        "GreaterThanOrEqualToThreshold",
    )


@pytest.mark.parametrize(
    ("alarm_name", "queue"),
    [
        ("PollerScheduleDLQAlarm", "PollerScheduleDLQ"),
        ("TrackerEventsDLQAlarm", "TrackerEventsDLQ"),
        ("SlackNotifierDLQAlarm", "SlackNotifierDLQ"),
        ("FailedEventsDLQAlarm", "FailedEventsDLQ"),
    ],
)
def test_every_dlq_alarms_on_its_first_message(template: Template, alarm_name: str, queue: str) -> None:
    alarm = alarms(template)[alarm_name]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


@pytest.mark.parametrize(
    ("alarm_name", "metric"),
    [
        ("SourceThrottledAlarm", "SourceThrottled"),
        ("PollErrorsAlarm", "PollErrors"),
        ("MalformedItemsAlarm", "MalformedItems"),
        ("TrackRefusedAlarm", "TrackRefused"),
    ],
)
def test_custom_metric_alarms_watch_the_powertools_metrics(
    template: Template, alarm_name: str, metric: str
) -> None:
    alarm = alarms(template)[alarm_name]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (STACK_NAMESPACE, metric, "Sum")
    # Powertools adds the service name as the "service" dimension of every metric.
    assert alarm["Dimensions"] == [{"Name": "service", "Value": STACK_NAMESPACE}]
    assert alarm["Period"] == 300
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_throttling_alarms_at_five_in_five_minutes(template: Template) -> None:
    assert alarms(template)["SourceThrottledAlarm"]["Threshold"] == 5


# ---------------------------------------------------------------- outputs and suppressions


def test_every_output_is_described_and_slack_outputs_are_conditional(template: Template) -> None:
    outputs = template["Outputs"]
    assert set(outputs) == {
        "TopicArn",
        "TableName",
        "EventBusName",
        "PollerFunctionName",
        "TrackerFunctionName",
        "SlackNotifierFunctionName",
        "SlackNotifierDLQUrl",
        "PollerScheduleDLQUrl",
        "TrackerEventsDLQUrl",
        "LayerArn",
        "PollRegions",
    }
    for name, output in outputs.items():
        assert output["Description"], name
    assert {name for name, o in outputs.items() if o.get("Condition") == "HasSlack"} == {
        "SlackNotifierFunctionName",
        "SlackNotifierDLQUrl",
    }


def test_the_bus_output_names_the_bus_the_poller_puts_events_on(template: Template) -> None:
    # `ggwatch poll --stack` reads it to publish where a scheduled poll would
    variables = function_properties(template, "PollerFunction")["Environment"]["Variables"]
    assert template["Outputs"]["EventBusName"]["Value"] == variables["EVENT_BUS_NAME"]


def test_every_checkov_suppression_says_why(template: Template) -> None:
    for name, body in template["Resources"].items():
        for skip in body.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
            assert len(skip.get("comment", "")) > 40, f"{name}: {skip['id']} needs a reason"


def test_every_custom_metric_alarm_watches_a_metric_the_code_emits(template: Template) -> None:
    emitted = {
        match
        for directory in ("layers", "functions")
        for source in (REPOSITORY / directory).rglob("*.py")
        for match in re.findall(r'(?:add_metric\(name=|\bcount\()"(\w+)"', source.read_text())
    }
    watched = {alarm["MetricName"] for alarm in custom_metric_alarms(template).values()}
    assert watched
    assert watched <= emitted


# ---------------------------------------------------------------- device-event checks


DEVICE_EVENT_RESOURCES = {"PollerDeviceEventRule", "PollerDeviceEventPermission"}


def test_device_event_checks_are_on_by_default_and_can_be_turned_off(template: Template) -> None:
    parameter = template["Parameters"]["DeviceEventChecks"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("true", ["true", "false"])
    conditional = {
        name
        for name, body in template["Resources"].items()
        if body.get("Condition") == "ChecksOnDeviceEvents"
    }
    assert conditional == DEVICE_EVENT_RESOURCES
    assert Resolver(template, stack_name="s").condition("ChecksOnDeviceEvents") is True
    off = Resolver(template, stack_name="s", parameters={"DeviceEventChecks": "false"})
    assert off.condition("ChecksOnDeviceEvents") is False


def test_the_device_event_rule_sends_greengrass_v2_device_reports_to_the_poller(template: Template) -> None:
    rule = resource(template, "PollerDeviceEventRule")["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.greengrass"],
        "detail-type": ["Greengrass V2 Effective Deployment Status Change"],
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["PollerFunction", "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}, "the next scheduled run is the retry"
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["PollerScheduleDLQ", "Arn"]}}
    permission = resource(template, "PollerDeviceEventPermission")["Properties"]
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "PollerFunction"},
        "Principal": "events.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["PollerDeviceEventRule", "Arn"]},
    }


@pytest.mark.parametrize("checks", ["true", "false"])
def test_only_the_device_event_rule_may_send_to_the_pollers_dlq(template: Template, checks: str) -> None:
    resolve = Resolver(
        template,
        stack_name="s",
        parameters={"DeviceEventChecks": checks},
        resources={"PollerScheduleDLQ.Arn": "arn:queue", "PollerDeviceEventRule.Arn": "arn:rule"},
    )
    document = resolve(resource(template, "PollerScheduleDLQPolicy")["Properties"]["PolicyDocument"])
    allowed = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    if checks == "false":
        assert allowed == []
        return
    assert allowed == [
        {
            "Sid": "AllowDeviceEventRuleDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": "arn:queue",
            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:rule"}},
        }
    ]


def test_poll_concurrency_parameter_accepts_what_the_setting_accepts(template: Template) -> None:
    parameter = template["Parameters"]["PollConcurrency"]
    field = PollerSettings.model_fields["POLL_CONCURRENCY"]
    bounds = {type(m).__name__: m for m in field.metadata}
    assert parameter["Default"] == field.default
    assert (parameter["MinValue"], parameter["MaxValue"]) == (bounds["Ge"].ge, bounds["Le"].le)


def test_settled_deployments_are_polled_every_run_unless_asked_otherwise(template: Template) -> None:
    parameter = template["Parameters"]["SettledPollMinutes"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (0, 0, 1440)


@pytest.mark.parametrize(
    "parameter",
    [
        "StuckV1StatusMinutes",
        "StuckV1ProgressMinutes",
        "StuckV2StatusMinutes",
        "StuckV2ProgressMinutes",
        "ProgressStepPercent",
    ],
)
def test_stuck_and_progress_parameters_default_and_bound_as_the_poller_settings_do(
    template: Template, parameter: str
) -> None:
    """The same default whether the stack is deployed or the poller is run without the template."""
    variable = next(
        name
        for name, value in resource(template, "PollerFunction")["Properties"]["Environment"][
            "Variables"
        ].items()
        if value == {"Ref": parameter}
    )
    field = PollerSettings.model_fields[variable]
    bounds = {type(item).__name__: item for item in field.metadata}
    declared = template["Parameters"][parameter]
    assert declared["Default"] == field.default
    assert (declared["MinValue"], declared["MaxValue"]) == (bounds["Ge"].ge, bounds["Le"].le)
