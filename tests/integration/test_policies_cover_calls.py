"""Every AWS call a handler really makes is granted to it by template.yaml, and every grant is used.

The static policy tests say what each role may do; this one records what each handler actually does
while it works (tracking, a whole deployment life, a deadline, Slack delivery with a failure and a
duplicate): the action, the ARN it acted on and, for a DynamoDB item, the item's partition key. Each
call must be allowed by one statement of the function's role (action, Resource and the
`dynamodb:LeadingKeys` and `aws:RequestedRegion` conditions), so a new call without a matching grant
fails here instead of in production; and each action and key prefix the role grants to handler code must be used, so a grant
wider than what the handler does fails too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.client import BaseClient

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind
from ggwatch_local.greengrass import BulkDeploymentFake, Step
from ggwatch_local.greengrass_v2 import FleetFake, lives
from ggwatch_local.greengrass_v2.lives import single_device
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from ggwatch_local.slack_receiver import SlackReceiver, server_error
from ggwatch_local.template import Resolver, dynamodb_table_definition, load_template
from tests.clock import START
from tests.conftest import REGION
from tests.faults.clock import deadline_after
from tests.integration.conftest import TopicWithSubscriber
from tests.unit.test_events import EVENTS
from tests.unit.test_template import statements_of

pytestmark = [
    pytest.mark.usefixtures("app_environment"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

ACCOUNT = "123456789012"
"""moto's account, which every ARN of these tests carries."""
LAMBDA_ITSELF = frozenset(
    {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    | {"sqs:SendMessage"}  # the on-failure destination
)
"""Actions Lambda performs as the function's role, never the handler's code: checked statically."""
POLLER_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ggwatch-test"
"""The function the test's Lambda context names (tests/conftest.py)."""
LEADING_KEYS = "dynamodb:LeadingKeys"
REQUESTED_REGION = "aws:RequestedRegion"


@dataclass(frozen=True)
class Call:
    """One SDK call as IAM sees it: the action, the resource ARN, the item's partition key if any,
    and the region the call was sent to."""

    action: str
    resource: str
    leading_key: str | None = None
    region: str = REGION


def _partition_key_name() -> str:
    schema = dynamodb_table_definition(load_template())["KeySchema"]
    (name,) = [key["AttributeName"] for key in schema if key["KeyType"] == "HASH"]
    assert isinstance(name, str)
    return name


ACTION_OF_OPERATION = {"sns:PublishBatch": "sns:Publish", "lambda:Invoke": "lambda:InvokeFunction"}
"""Operations IAM authorizes under another action's name (SNS API permissions reference: there is no
sns:PublishBatch action, sns:Publish grants both; Lambda's Invoke is the lambda:InvokeFunction action)."""


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorizes one SDK operation."""
    action = f"{service}:{operation}"
    return ACTION_OF_OPERATION.get(action, action)


def call_of(service: str, operation: str, params: dict[str, Any], region: str = REGION) -> Call:
    """What IAM authorizes for one call. A call this function does not know fails the test: teach it."""
    action = iam_action(service, operation)
    if service == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{params['TableName']}"
        if operation == "Query":
            index = f"{table}/index/{params['IndexName']}" if "IndexName" in params else table
            return Call(action, index, region=region)
        item = params.get("Key") or params.get("Item") or {}
        return Call(action, table, item[_partition_key_name()]["S"], region)
    if action in ("greengrass:GetBulkDeploymentStatus", "greengrass:ListBulkDeploymentDetailedReports"):
        deployment = params["BulkDeploymentId"]
        resource = f"arn:aws:greengrass:{region}:{ACCOUNT}:/greengrass/bulk/deployments/{deployment}"
    elif action == "greengrass:GetDeployment":
        resource = f"arn:aws:greengrass:{region}:{ACCOUNT}:deployments:{params['deploymentId']}"
    elif action == "greengrass:ListEffectiveDeployments":
        resource = f"arn:aws:greengrass:{region}:{ACCOUNT}:coreDevices:{params['coreDeviceThingName']}"
    elif action in ("iot:DescribeJob", "iot:ListJobExecutionsForJob"):
        resource = f"arn:aws:iot:{region}:{ACCOUNT}:job/{params['jobId']}"
    elif action == "sns:Publish":
        resource = params["TopicArn"]
    elif action == "events:PutEvents":
        (bus,) = {entry.get("EventBusName", "default") for entry in params["Entries"]}
        resource = f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{bus}"
    elif action == "secretsmanager:GetSecretValue":
        resource = params["SecretId"]
    elif action == "lambda:InvokeFunction":
        resource = params["FunctionName"]
    else:
        raise AssertionError(f"the policy coverage test does not know the resource of {action}: add it here")
    return Call(action, resource, region=region)


Recorded = list[tuple[str, str, dict[str, Any], str]]
"""(service, operation, parameters, region) of each SDK call, turned into `Call`s when checked."""


@pytest.fixture
def recorded_calls(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """Every SDK call made while the fixture is active (the test's own calls too, until it clears)."""
    calls: Recorded = []
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # private, but the one place every call passes

    def recording(self: BaseClient, operation_name: str, api_params: Any) -> Any:
        calls.append(
            (self.meta.service_model.endpoint_prefix, operation_name, dict(api_params), self.meta.region_name)
        )
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


@dataclass(frozen=True)
class Grant:
    """One action of one statement, its resources, key prefixes and regions resolved for this test's
    stack."""

    action: str
    resources: tuple[str, ...]
    key_prefixes: tuple[str, ...] | None
    regions: tuple[str, ...] | None = None

    def allows(self, call: Call) -> bool:
        if call.action != self.action or not any(fnmatchcase(call.resource, r) for r in self.resources):
            return False
        if self.regions is not None and call.region not in self.regions:
            return False
        if self.key_prefixes is None:
            return True
        return call.leading_key is not None and any(
            fnmatchcase(call.leading_key, prefix) for prefix in self.key_prefixes
        )


def handler_grants(function: str, resolve: Resolver) -> list[Grant]:
    """The role's grants to handler code (not those to Lambda itself), resolved for `resolve`'s stack."""
    result: list[Grant] = []
    for statement in statements_of(load_template(), function, resolve.condition):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if set(actions) <= LAMBDA_ITSELF:
            continue
        assert not set(actions) & LAMBDA_ITSELF, (
            f"{function}: keep Lambda's own grants in their own statement"
        )
        resources = resolve(statement["Resource"])
        condition = resolve(statement.get("Condition") or {})
        assert condition.keys() <= {"ForAllValues:StringLike", "StringEquals"}, f"{function}: {condition}"
        prefixes = regions = None
        if "ForAllValues:StringLike" in condition:
            assert condition["ForAllValues:StringLike"].keys() == {LEADING_KEYS}
            prefixes = tuple(condition["ForAllValues:StringLike"][LEADING_KEYS])
        if "StringEquals" in condition:
            assert condition["StringEquals"].keys() == {REQUESTED_REGION}
            regions = tuple(condition["StringEquals"][REQUESTED_REGION])
        for action in actions:
            arns = tuple(resources if isinstance(resources, list) else [resources])
            result.append(Grant(action, arns, prefixes, regions))
    return result


def assert_exactly_granted(function: str, recorded: Recorded | list[Call], resolve: Resolver) -> None:
    """Every call allowed by a grant; every grant's action and key prefix used by some call."""
    calls = [call if isinstance(call, Call) else call_of(*call) for call in recorded]
    assert calls, "the scenario made no call"
    grants = handler_grants(function, resolve)
    refused = [call for call in calls if not any(grant.allows(call) for grant in grants)]
    assert not refused, f"{function} makes calls its role does not allow: {refused}"
    for grant in grants:
        used = [call for call in calls if grant.allows(call)]
        assert used, f"{function} is granted {grant.action} on {grant.resources} but never calls it"
        for prefix in grant.key_prefixes or ():
            assert any(fnmatchcase(str(call.leading_key), prefix) for call in used), (
                f"{function} is granted {grant.action} on keys {prefix} but touches none"
            )


@pytest.fixture
def resolve(deployments_table: str, topic: TopicWithSubscriber, monkeypatch: pytest.MonkeyPatch) -> Resolver:
    """Resolves the template for this test's stack: moto's table and topic stand for the template's;
    the poller puts its events on the bus the template names by default, as deployed."""
    resolver = Resolver(
        load_template(),
        stack_name="ggwatch-test",
        region=REGION,
        account_id=ACCOUNT,
        resources={
            "DeploymentsTable": deployments_table,
            "DeploymentsTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{deployments_table}",
            "NotificationsTopic": topic.topic_arn,
            "PollerFunction.Arn": POLLER_FUNCTION_ARN,
        },
    )
    monkeypatch.setenv("EVENT_BUS_NAME", resolver({"Ref": "EventBusName"}))
    return resolver


def test_tracker_calls_are_exactly_granted(
    recorded_calls: Recorded, lambda_context: LambdaContext, resolve: Resolver
) -> None:
    tracker = load_handler("tracker").lambda_handler
    tracker({"bulkDeploymentId": "bd-1"}, lambda_context)
    tracker({"bulkDeploymentId": "bd-1"}, lambda_context)
    tracker({"bulkDeploymentId": "bd-1", "action": "untrack"}, lambda_context)
    assert_exactly_granted("TrackerFunction", recorded_calls, resolve)


def test_poller_calls_are_exactly_granted(
    recorded_calls: Recorded,
    greengrass: BulkDeploymentFake,
    fleet: FleetFake,
    deployments_table: str,
    lambda_context: LambdaContext,
    resolve: Resolver,
) -> None:
    for deployment_id in ("bd-1", "bd-2"):
        greengrass.add(deployment_id, [Step("Running"), Step("Completed")])
        load_handler("tracker").lambda_handler({"bulkDeploymentId": deployment_id}, lambda_context)
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-unknown"}, lambda_context)
    # and a Greengrass V2 rollout in which devices fail, so that every V2 call is made
    rollout = fleet.add(lives.rollout_with_failures(devices=10))
    DynamoDeploymentRepository(deployments_table).track(
        DeploymentKind.GREENGRASS_V2, rollout, tracked_by="test", now=START
    )
    recorded_calls.clear()
    poller = load_handler("poller").lambda_handler
    poller(
        {}, deadline_after(0).context
    )  # cut short before its first deployment: stores a cursor, polls nothing
    poller({}, lambda_context)
    greengrass.advance("bd-1")
    fleet.advance(rollout)
    poller({}, lambda_context)
    assert {(service, operation) for service, operation, *_ in recorded_calls} >= {
        ("greengrass", "GetDeployment"),
        ("iot", "DescribeJob"),
        ("iot", "ListJobExecutionsForJob"),
        ("greengrass", "ListEffectiveDeployments"),
    }
    assert_exactly_granted("PollerFunction", recorded_calls, resolve)


def test_poller_calls_on_device_events_are_granted(
    recorded_calls: Recorded,
    greengrass: BulkDeploymentFake,
    fleet: FleetFake,
    lambda_context: LambdaContext,
    resolve: Resolver,
) -> None:
    # A tracked V2 deployment; its device reports it twice (the second is debounced), then garbled.
    deployment_id = fleet.add(single_device())
    DynamoDeploymentRepository(resolve({"Ref": "DeploymentsTable"})).track(
        DeploymentKind.GREENGRASS_V2, deployment_id, tracked_by="manual", now=START
    )
    event = json.loads((EVENTS / "poller_device_event.json").read_text(encoding="utf-8"))
    event["detail"]["deploymentId"] = deployment_id
    recorded_calls.clear()
    poller = load_handler("poller").lambda_handler
    poller(event, lambda_context)
    poller(event, lambda_context)
    poller({**event, "detail": {}}, lambda_context)
    grants = handler_grants("PollerFunction", resolve)
    calls = [call_of(*recorded) for recorded in recorded_calls]
    assert [call for call in calls if not any(grant.allows(call) for grant in grants)] == []


@pytest.mark.usefixtures("own_function")
def test_poller_calls_of_a_stack_that_polls_other_regions_are_granted(
    recorded_calls: Recorded,
    greengrass: BulkDeploymentFake,
    lambda_context: LambdaContext,
    resolve: Resolver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a stack that polls eu-west-1 too, and a deployment in its own region
    monkeypatch.setenv("POLL_REGIONS", "eu-west-1")
    load_handler("poller").cold_start.cache_clear()
    greengrass.add("bd-1", [Step("Running")])
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    recorded_calls.clear()
    # When the scheduled run starts eu-west-1's run, and that run polls
    poller = load_handler("poller").lambda_handler
    assert poller({}, lambda_context)["regionRuns"] == ["eu-west-1"]
    (started,) = [params for _, operation, params, _ in recorded_calls if operation == "Invoke"]
    poller(json.loads(started["Payload"]), lambda_context)
    # Then every call, the start of the region run included, is granted to that stack, and starting
    # it only to a stack with PollRegions
    polling = Resolver(**{**vars(resolve), "parameters": {"PollRegions": "eu-west-1"}})
    grants = handler_grants("PollerFunction", polling)
    calls = [call_of(*recorded) for recorded in recorded_calls]
    assert [call for call in calls if not any(grant.allows(call) for grant in grants)] == []
    invoke = call_of("lambda", "Invoke", started)
    assert invoke.resource == POLLER_FUNCTION_ARN
    assert not any(grant.allows(invoke) for grant in handler_grants("PollerFunction", resolve))


def test_slack_notifier_calls_are_exactly_granted(
    recorded_calls: Recorded,
    monkeypatch: pytest.MonkeyPatch,
    greengrass: BulkDeploymentFake,
    topic: TopicWithSubscriber,
    lambda_context: LambdaContext,
    resolve: Resolver,
) -> None:
    greengrass.add("bd-1", [Step("Failed", error_message="boom")])
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    load_handler("poller").lambda_handler({}, lambda_context)
    [delivered] = topic.drain()
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(delivered.body)}}]}
    with SlackReceiver() as slack:
        secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="ggwatch/slack",
            SecretString=json.dumps(
                [{"name": "ops", "url": slack.url("/ops")}, {"name": "alerts", "url": slack.url("/alerts")}]
            ),
        )["ARN"]
        monkeypatch.setenv("SLACK_WEBHOOKS_SECRET_ARN", secret_arn)
        notifier = load_handler("slack_notifier")
        notifier.slack_delivery.cache_clear()
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        slack.script(server_error(), server_error(), server_error(), path="/alerts")
        recorded_calls.clear()
        with pytest.raises(Exception, match="alerts"):
            notifier.lambda_handler(event, lambda_context)
        notifier.lambda_handler(event, lambda_context)
        notifier.lambda_handler(event, lambda_context)
    stack = Resolver(**{**vars(resolve), "parameters": {"SlackWebhooksSecretArn": secret_arn}})
    assert_exactly_granted("SlackNotifierFunction", recorded_calls, stack)


# ---------------------------------------------------------------- the checker itself


def test_a_call_outside_the_granted_key_prefixes_is_refused(resolve: Resolver) -> None:
    # The poller reads its cursor only; a GetItem on a deployment item must not pass.
    table = resolve({"Fn::GetAtt": ["DeploymentsTable", "Arn"]})
    cursor = Call("dynamodb:GetItem", table, "POLLER#cursor#greengrass-v1-bulk")
    deployment = Call("dynamodb:GetItem", table, "DEPLOYMENT#greengrass-v1-bulk#bd-1")
    grants = handler_grants("PollerFunction", resolve)
    assert any(grant.allows(cursor) for grant in grants)
    assert not any(grant.allows(deployment) for grant in grants)


def test_a_call_on_another_resource_is_refused(resolve: Resolver) -> None:
    other_topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:someone-elses-topic"
    other_bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/someone-elses-bus"
    grants = handler_grants("PollerFunction", resolve)
    assert not any(grant.allows(Call("sns:Publish", other_topic)) for grant in grants)
    assert not any(grant.allows(Call("events:PutEvents", other_bus)) for grant in grants)


def test_a_grant_no_call_uses_fails_the_check(resolve: Resolver) -> None:
    table = resolve({"Fn::GetAtt": ["DeploymentsTable", "Arn"]})
    only_the_tracker_writes = [Call("dynamodb:UpdateItem", table, "DEPLOYMENT#greengrass-v1-bulk#bd-1")]
    with pytest.raises(AssertionError, match="never calls it"):
        assert_exactly_granted("PollerFunction", only_the_tracker_writes, resolve)


def test_greengrass_is_read_only_in_the_regions_the_stack_polls(resolve: Resolver) -> None:
    def status_call(region: str) -> Call:
        return call_of("greengrass", "GetBulkDeploymentStatus", {"BulkDeploymentId": "bd-1"}, region)

    # Given the default stack (PollRegions empty): its own region only
    grants = handler_grants("PollerFunction", resolve)
    assert any(grant.allows(status_call(REGION)) for grant in grants)
    assert not any(grant.allows(status_call("eu-west-1")) for grant in grants)
    # Given a stack that polls eu-west-1 and us-west-2 too: those, and still no other
    polling = Resolver(**{**vars(resolve), "parameters": {"PollRegions": "eu-west-1,us-west-2"}})
    grants = handler_grants("PollerFunction", polling)
    for region in (REGION, "eu-west-1", "us-west-2"):
        assert any(grant.allows(status_call(region)) for grant in grants), region
    assert not any(grant.allows(status_call("ap-south-1")) for grant in grants)
