"""The Greengrass V2 fleet fake, exercised through real greengrassv2 and iot boto3 clients over HTTP.

The clients are built the ordinary way and find the fake through AWS_ENDPOINT_URL_GREENGRASSV2 and
AWS_ENDPOINT_URL_IOT, so botocore's real serializers and parsers check the wire format.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from mypy_boto3_greengrassv2 import GreengrassV2Client
from mypy_boto3_iot import IoTClient

from ggwatch_local.greengrass import TRUNCATED_BODY, Fault
from ggwatch_local.greengrass_v2 import (
    DeviceFailure,
    Execution,
    FleetFake,
    FleetLife,
    FleetStep,
    Target,
    api,
    faults,
    lives,
)
from ggwatch_local.greengrass_v2.service_models import ModelledOperation
from tests.clock import Clock

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
GROUP = Target("thinggroup", "line-1")
FAILURE = DeviceFailure("Disk full.", ("DEPLOYMENT_FAILURE", "IO_ERROR"), ("DEVICE_ERROR",))


@pytest.fixture
def gg(fleet: FleetFake) -> GreengrassV2Client:
    return boto3.client("greengrassv2", config=NO_RETRIES)


@pytest.fixture
def iot(fleet: FleetFake) -> IoTClient:
    return boto3.client("iot", config=NO_RETRIES)


def life(*steps: FleetStep, target: Target = GROUP) -> FleetLife:
    return FleetLife("telemetry", target, steps)


def step(*executions: Execution, status: Any = "ACTIVE", job: Any = "IN_PROGRESS") -> FleetStep:
    return FleetStep(status, job, executions)


def error_of(info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int]:
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def job_of(gg: GreengrassV2Client, deployment_id: str) -> str:
    return gg.get_deployment(deploymentId=deployment_id)["iotJobId"]


# -- GetDeployment ----------------------------------------------------------------------------------------


def test_get_deployment_round_trips_every_field(
    fleet: FleetFake, gg: GreengrassV2Client, fleet_clock: Clock
) -> None:
    # Given a deployment to a thing group, with tags
    deployment_id = fleet.add(
        life(step(Execution("a", "QUEUED"))), "dep-1", tags={"team": "edge"}, job_id="job-1"
    )

    # When it is read through boto3
    answer = gg.get_deployment(deploymentId="dep-1")

    # Then every member arrives, parsed into the modelled types
    assert deployment_id == "dep-1"
    assert answer["deploymentId"] == "dep-1"
    assert answer["deploymentName"] == "telemetry"
    assert answer["deploymentStatus"] == "ACTIVE"
    assert answer["targetArn"] == "arn:aws:iot:us-east-1:123456789012:thinggroup/line-1"
    assert answer["revisionId"] == "1"
    assert answer["iotJobId"] == "job-1"
    assert answer["iotJobArn"] == "arn:aws:iot:us-east-1:123456789012:job/job-1"
    assert answer["isLatestForTarget"] is True
    assert answer["creationTimestamp"] == fleet_clock()
    assert answer["tags"] == {"team": "edge"}


def test_unknown_deployment_is_resource_not_found_404(gg: GreengrassV2Client) -> None:
    with pytest.raises(gg.exceptions.ResourceNotFoundException) as info:
        gg.get_deployment(deploymentId="no-such-deployment")
    assert error_of(info) == ("ResourceNotFoundException", 404)


def test_a_deployment_whose_job_does_not_exist_yet_names_no_job(
    fleet: FleetFake, gg: GreengrassV2Client
) -> None:
    fleet.add(life(FleetStep("ACTIVE", None), step(Execution("a", "QUEUED"))), "dep-1")
    assert "iotJobId" not in gg.get_deployment(deploymentId="dep-1")
    fleet.advance("dep-1")
    assert "iotJobId" in gg.get_deployment(deploymentId="dep-1")


# -- ListDeployments --------------------------------------------------------------------------------------


def test_a_new_revision_makes_the_active_one_inactive_and_not_latest(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    # Given an ACTIVE deployment to a group, one device done and one still queued
    old = fleet.add(life(step(Execution("a", "SUCCEEDED"), Execution("b", "QUEUED"))), "old")

    # When a new deployment is created for the same target
    new = fleet.add(life(step(Execution("a", "QUEUED"), Execution("b", "QUEUED"))), "new")

    # Then the old one is INACTIVE, no longer the latest, and its job canceled for the queued device
    answer = gg.get_deployment(deploymentId=old)
    assert (answer["deploymentStatus"], answer["isLatestForTarget"]) == ("INACTIVE", False)
    job = iot.describe_job(jobId=answer["iotJobId"])["job"]
    assert job["status"] == "CANCELED"
    assert job["jobProcessDetails"]["numberOfCanceledThings"] == 1
    assert job["jobProcessDetails"]["numberOfSucceededThings"] == 1
    latest = gg.get_deployment(deploymentId=new)
    assert (latest["revisionId"], latest["isLatestForTarget"]) == ("2", True)


def test_list_deployments_shows_latest_revisions_unless_all_history_is_asked(
    fleet: FleetFake, gg: GreengrassV2Client
) -> None:
    fleet.add(life(step()), "group-r1")
    fleet.add(life(step()), "group-r2")
    fleet.add(life(step(), target=Target("thing", "gw-1")), "thing-r1")

    latest = {d["deploymentId"] for d in gg.list_deployments()["deployments"]}
    everything = {d["deploymentId"] for d in gg.list_deployments(historyFilter="ALL")["deployments"]}
    one_target = gg.list_deployments(
        historyFilter="ALL", targetArn="arn:aws:iot:us-east-1:123456789012:thinggroup/line-1"
    )["deployments"]

    assert latest == {"group-r2", "thing-r1"}
    assert everything == {"group-r1", "group-r2", "thing-r1"}
    assert [d["deploymentId"] for d in one_target] == ["group-r2", "group-r1"]


def test_list_deployments_pages_newest_first(
    fleet: FleetFake, gg: GreengrassV2Client, fleet_clock: Clock
) -> None:
    for i in range(7):
        fleet.add(life(step(), target=Target("thing", f"gw-{i}")), f"dep-{i}")
        fleet_clock.advance(1)

    first = gg.list_deployments(maxResults=3)
    pages = gg.get_paginator("list_deployments").paginate(PaginationConfig={"PageSize": 3})
    listed = [d["deploymentId"] for page in pages for d in page["deployments"]]

    assert len(first["deployments"]) == 3 and "nextToken" in first
    assert listed == [f"dep-{i}" for i in reversed(range(7))]


@pytest.mark.parametrize(
    "arguments",
    [{"nextToken": "not-a-token"}, {"maxResults": 101}, {"historyFilter": "SOME"}],
    ids=["token", "max-results", "history-filter"],
)
def test_bad_list_parameters_are_a_validation_exception(gg: GreengrassV2Client, arguments: Any) -> None:
    with pytest.raises(gg.exceptions.ValidationException) as info:
        gg.list_deployments(**arguments)
    assert error_of(info) == ("ValidationException", 400)


# -- ListEffectiveDeployments -----------------------------------------------------------------------------


def test_effective_deployments_give_a_failed_devices_reason_and_details(
    fleet: FleetFake, gg: GreengrassV2Client
) -> None:
    fleet.add(life(step(Execution("a", "FAILED", FAILURE), Execution("b", "SUCCEEDED"))), "dep-1")

    failed = gg.list_effective_deployments(coreDeviceThingName="a")["effectiveDeployments"]
    succeeded = gg.list_effective_deployments(coreDeviceThingName="b")["effectiveDeployments"]

    assert len(failed) == 1
    assert failed[0]["deploymentId"] == "dep-1"
    assert failed[0]["coreDeviceExecutionStatus"] == "FAILED"
    assert failed[0]["reason"] == "Disk full."
    assert failed[0]["statusDetails"] == {
        "errorStack": ["DEPLOYMENT_FAILURE", "IO_ERROR"],
        "errorTypes": ["DEVICE_ERROR"],
    }
    assert succeeded[0]["coreDeviceExecutionStatus"] == "SUCCEEDED"
    assert "reason" not in succeeded[0] and "statusDetails" not in succeeded[0]


def test_effective_deployments_list_every_deployment_that_reached_the_device_newest_first(
    fleet: FleetFake, gg: GreengrassV2Client, fleet_clock: Clock
) -> None:
    for i in range(3):
        fleet.add(life(step(Execution("a", "SUCCEEDED")), target=Target("thinggroup", f"g{i}")), f"dep-{i}")
        fleet_clock.advance(1)

    pages = gg.get_paginator("list_effective_deployments").paginate(
        coreDeviceThingName="a", PaginationConfig={"PageSize": 2}
    )

    assert [d["deploymentId"] for p in pages for d in p["effectiveDeployments"]] == [
        "dep-2",
        "dep-1",
        "dep-0",
    ]


def test_effective_deployments_of_an_unknown_device_are_resource_not_found(gg: GreengrassV2Client) -> None:
    with pytest.raises(gg.exceptions.ResourceNotFoundException) as info:
        gg.list_effective_deployments(coreDeviceThingName="nobody")
    assert error_of(info) == ("ResourceNotFoundException", 404)


# -- DescribeJob / ListJobExecutionsForJob / DescribeJobExecution -----------------------------------------


def test_describe_job_counts_every_execution_status(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    statuses = ["QUEUED", "IN_PROGRESS", "SUCCEEDED", "SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT",
                "CANCELED", "REMOVED"]  # fmt: skip
    fleet.add(life(step(*(Execution(f"t{i}", s) for i, s in enumerate(statuses)))), "dep-1")  # type: ignore[arg-type]

    job = iot.describe_job(jobId=job_of(gg, "dep-1"))["job"]

    assert job["status"] == "IN_PROGRESS"
    assert job["targetSelection"] == "CONTINUOUS"
    assert job["jobProcessDetails"] == {
        "numberOfQueuedThings": 1,
        "numberOfInProgressThings": 1,
        "numberOfSucceededThings": 2,
        "numberOfFailedThings": 1,
        "numberOfRejectedThings": 1,
        "numberOfTimedOutThings": 1,
        "numberOfCanceledThings": 1,
        "numberOfRemovedThings": 1,
        "processingTargets": ["arn:aws:iot:us-east-1:123456789012:thinggroup/line-1"],
    }


def test_unknown_or_deleted_jobs_are_resource_not_found(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    fleet.add(life(step(Execution("a", "QUEUED"))), "dep-1")
    job_id = job_of(gg, "dep-1")
    fleet.delete_job("dep-1")

    for call in (
        lambda: iot.describe_job(jobId="no-such-job"),
        lambda: iot.describe_job(jobId=job_id),
        lambda: iot.list_job_executions_for_job(jobId=job_id),
        lambda: iot.describe_job_execution(jobId=job_id, thingName="a"),
    ):
        with pytest.raises(iot.exceptions.ResourceNotFoundException) as info:
            call()
        assert error_of(info) == ("ResourceNotFoundException", 404)
    assert gg.get_deployment(deploymentId="dep-1")["iotJobId"] == job_id


def test_job_executions_filter_by_status_and_page(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    executions = [Execution(f"t{i:02d}", "FAILED" if i % 3 == 0 else "SUCCEEDED") for i in range(12)]
    fleet.add(life(step(*executions)), "dep-1")
    job_id = job_of(gg, "dep-1")

    pages = iot.get_paginator("list_job_executions_for_job").paginate(
        jobId=job_id, status="FAILED", PaginationConfig={"PageSize": 2}
    )
    failed = [s for page in pages for s in page["executionSummaries"]]
    everything = iot.list_job_executions_for_job(jobId=job_id, maxResults=250)["executionSummaries"]

    assert [s["thingArn"].rsplit("/", 1)[1] for s in failed] == ["t00", "t03", "t06", "t09"]
    assert {s["jobExecutionSummary"]["status"] for s in failed} == {"FAILED"}
    assert len(everything) == 12


def test_an_invalid_status_filter_is_an_invalid_request(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    fleet.add(life(step(Execution("a", "QUEUED"))), "dep-1")
    with pytest.raises(iot.exceptions.InvalidRequestException) as info:
        iot.list_job_executions_for_job(jobId=job_of(gg, "dep-1"), status="BROKEN")  # type: ignore[arg-type]
    assert error_of(info) == ("InvalidRequestException", 400)


def test_execution_timestamps_follow_the_clock(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient, fleet_clock: Clock
) -> None:
    queued_at = fleet_clock()
    fleet.add(life(step(Execution("a", "QUEUED")), step(Execution("a", "FAILED", FAILURE))), "dep-1")
    fleet_clock.advance(30)
    fleet.advance("dep-1")

    execution = iot.describe_job_execution(jobId=job_of(gg, "dep-1"), thingName="a")["execution"]

    assert execution["status"] == "FAILED"
    assert execution["queuedAt"] == queued_at
    assert execution["startedAt"] == execution["lastUpdatedAt"] == fleet_clock()
    assert execution["statusDetails"]["detailsMap"]["deployment-failure-cause"] == "Disk full."


def test_an_execution_on_a_thing_outside_the_job_is_resource_not_found(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    fleet.add(life(step(Execution("a", "QUEUED"))), "dep-1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_job_execution(jobId=job_of(gg, "dep-1"), thingName="b")


# -- faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        (faults.throttling("greengrassv2"), "ThrottlingException", 429),
        (faults.server_error("greengrassv2"), "InternalServerException", 500),
    ],
)
def test_greengrass_faults_answer_as_greengrass_does(
    fleet: FleetFake, gg: GreengrassV2Client, fault: Fault, code: str, status: int
) -> None:
    fleet.add(life(step()), "dep-1")
    fleet.inject(fault, operation="GetDeployment")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        gg.get_deployment(deploymentId="dep-1")
    assert error_of(info) == (code, status)
    assert gg.get_deployment(deploymentId="dep-1")["deploymentStatus"] == "ACTIVE"


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        (faults.throttling("iot"), "ThrottlingException", 400),
        (faults.server_error("iot"), "ServiceUnavailableException", 503),
    ],
)
def test_iot_faults_answer_as_iot_does(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient, fault: Fault, code: str, status: int
) -> None:
    fleet.add(life(step()), "dep-1")
    fleet.inject(fault, operation="DescribeJob")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        iot.describe_job(jobId=job_of(gg, "dep-1"))
    assert error_of(info) == (code, status)


@pytest.mark.usefixtures("no_retry_delay")
def test_sdk_retries_absorb_a_short_throttling_burst_on_either_service(fleet: FleetFake) -> None:
    fleet.add(life(step(Execution("a", "QUEUED"))), "dep-1")
    fleet.inject(faults.throttling("greengrassv2"), times=2)
    retrying = Config(retries={"mode": "standard", "total_max_attempts": 3})
    job_id = boto3.client("greengrassv2", config=retrying).get_deployment(deploymentId="dep-1")["iotJobId"]
    fleet.inject(faults.throttling("iot"), times=2)
    job = boto3.client("iot", config=retrying).describe_job(jobId=job_id)["job"]
    assert job["jobProcessDetails"]["numberOfQueuedThings"] == 1
    assert [c.fault for c in fleet.calls] == ["throttle", "throttle", None, "throttle", "throttle", None]


def test_a_fault_for_one_deployment_hits_the_calls_about_its_job_too(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    fleet.add(life(step(Execution("a", "QUEUED"))), "dep-1")
    fleet.add(life(step(Execution("b", "QUEUED")), target=Target("thing", "b")), "dep-2")
    job_1, job_2 = job_of(gg, "dep-1"), job_of(gg, "dep-2")
    fleet.inject(faults.server_error("iot"), deployment_id="dep-1", times=2)

    assert iot.describe_job(jobId=job_2)["job"]["jobId"] == job_2
    with pytest.raises(iot.exceptions.ServiceUnavailableException):
        iot.list_job_executions_for_job(jobId=job_1)
    with pytest.raises(iot.exceptions.ServiceUnavailableException):
        iot.describe_job(jobId=job_1)
    assert [(c.operation, c.deployment_id) for c in fleet.calls[-3:]] == [
        ("DescribeJob", "dep-2"),
        ("ListJobExecutionsForJob", "dep-1"),
        ("DescribeJob", "dep-1"),
    ]


@pytest.mark.parametrize(
    "fault",
    [
        Fault.malformed_body(b'{"deploymentStatus": "ACTIVE", "isLatestForTarget": "maybe"}'),
        Fault.malformed_body(TRUNCATED_BODY),
        Fault.drop_connection(),
    ],
    ids=["wrongly-typed", "truncated", "dropped"],
)
def test_garbled_answers_reach_the_client(fleet: FleetFake, gg: GreengrassV2Client, fault: Fault) -> None:
    fleet.add(life(step()), "dep-1")
    fleet.inject(fault, operation="GetDeployment")
    try:
        answer: Any = gg.get_deployment(deploymentId="dep-1")
    except (botocore.exceptions.BotoCoreError, ValueError):
        return
    assert "deploymentId" not in answer  # botocore parses a cut-off body as an empty answer


def test_an_unrouted_path_is_not_found(fleet: FleetFake) -> None:
    client = boto3.client("greengrassv2", config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.get_component(arn="arn:aws:greengrass:us-east-1:123456789012:components:x:versions:1.0.0")
    assert error_of(info) == ("NotFoundException", 404)


# -- what the fake answers is checked against the service model -------------------------------------------


def test_a_response_member_the_model_does_not_have_is_refused() -> None:
    operation = ModelledOperation.load("greengrassv2", "GetDeployment")
    operation.check_output({"deploymentId": "d", "deploymentStatus": "ACTIVE", "isLatestForTarget": True})
    with pytest.raises(ValueError, match=r"deploymentStaus: not a member"):
        operation.check_output({"deploymentStaus": "ACTIVE"})
    with pytest.raises(ValueError, match=r"deploymentStatus: 'DONE' is not a valid string"):
        operation.check_output({"deploymentStatus": "DONE"})
    with pytest.raises(ValueError, match=r"creationTimestamp: '2025-01-01' is not a valid timestamp"):
        operation.check_output({"creationTimestamp": "2025-01-01"})


def test_the_server_answers_its_own_unmodelled_document_as_an_internal_error(
    fleet: FleetFake, gg: GreengrassV2Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a handler that answers a misspelt member (as a bug in the fake would)
    fleet.add(life(step()), "dep-1")
    monkeypatch.setitem(
        api.HANDLERS, ("greengrassv2", "GetDeployment"), lambda *_: {"deploymentStaus": "ACTIVE"}
    )

    # When a client asks, Then it is told the service failed rather than given a silently empty answer
    with pytest.raises(gg.exceptions.InternalServerException, match="deploymentStaus: not a member") as info:
        gg.get_deployment(deploymentId="dep-1")
    assert error_of(info) == ("InternalServerException", 500)


def test_requests_are_routed_by_the_models_request_uris() -> None:
    operation = ModelledOperation.load("iot", "DescribeJobExecution")
    assert operation.match("GET", "/things/gw%3A1/jobs/job-1") == {"thingName": "gw:1", "jobId": "job-1"}
    assert operation.match("GET", "/things/gw-1/jobs") is None
    assert operation.match("DELETE", "/things/gw-1/jobs/job-1") is None


# -- lives ----------------------------------------------------------------------------------------------


def counts(iot: IoTClient, job_id: str) -> dict[str, int]:
    details: dict[str, Any] = dict(iot.describe_job(jobId=job_id)["job"]["jobProcessDetails"])
    details.pop("processingTargets", None)
    return {k.removeprefix("numberOf").removesuffix("Things"): v for k, v in details.items()}


def nonzero(values: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in values.items() if v}


def test_rollout_to_fifty_devices_where_three_fail_with_reasons(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    deployment_id = fleet.add(lives.rollout_with_failures())
    job_id = job_of(gg, deployment_id)
    seen = [nonzero(counts(iot, job_id))]
    for _ in range(3):
        fleet.advance(deployment_id)
        seen.append(nonzero(counts(iot, job_id)))

    assert seen == [
        {"Queued": 50},
        {"Succeeded": 9, "Failed": 1, "InProgress": 10, "Queued": 30},
        {"Succeeded": 28, "Failed": 2, "InProgress": 10, "Queued": 10},
        {"Succeeded": 47, "Failed": 3},
    ]
    assert gg.get_deployment(deploymentId=deployment_id)["deploymentStatus"] == "ACTIVE"
    failed = iot.list_job_executions_for_job(jobId=job_id, status="FAILED")["executionSummaries"]
    reasons = {
        gg.list_effective_deployments(coreDeviceThingName=s["thingArn"].rsplit("/", 1)[1])[
            "effectiveDeployments"
        ][0]["reason"]
        for s in failed
    }
    assert reasons == {
        lives.DISK_FULL.reason,
        lives.INSTALL_SCRIPT_FAILED.reason,
        lives.S3_ACCESS_DENIED.reason,
    }


def test_a_canceled_rollout_cancels_the_queued_devices(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    deployment_id = fleet.add(lives.canceled(devices=20))
    job_id = job_of(gg, deployment_id)
    fleet.advance(deployment_id)
    assert fleet.advance(deployment_id) == "CANCELED"

    job = iot.describe_job(jobId=job_id)["job"]
    assert gg.get_deployment(deploymentId=deployment_id)["deploymentStatus"] == "CANCELED"
    assert job["status"] == "CANCELED" and "completedAt" in job
    assert nonzero(counts(iot, job_id)) == {"Succeeded": 5, "InProgress": 3, "Canceled": 12}


def test_a_continuous_deployment_stays_active_while_devices_join_then_is_replaced(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    old = fleet.add(lives.continuous_replaced(devices=10, joining=2))
    job_id = job_of(gg, old)
    history = []
    for _ in range(3):
        fleet.advance(old)
        history.append(
            (gg.get_deployment(deploymentId=old)["deploymentStatus"], nonzero(counts(iot, job_id)))
        )
    assert history == [
        ("ACTIVE", {"Succeeded": 10}),
        ("ACTIVE", {"Succeeded": 10, "Queued": 2}),
        ("ACTIVE", {"Succeeded": 12}),
    ]

    fleet.advance(old)

    revisions = gg.list_deployments(historyFilter="ALL")["deployments"]
    assert [(d["revisionId"], d["deploymentStatus"], d["isLatestForTarget"]) for d in revisions] == [
        ("2", "ACTIVE", True),
        ("1", "INACTIVE", False),
    ]
    assert iot.describe_job(jobId=job_id)["job"]["status"] == "CANCELED"
    new = revisions[0]["deploymentId"]
    assert nonzero(counts(iot, job_of(gg, new))) == {"Queued": 12}
    assert [d["deploymentId"] for d in gg.list_deployments()["deployments"]] == [new]


def test_a_single_device_deployment_completes(
    fleet: FleetFake, gg: GreengrassV2Client, iot: IoTClient
) -> None:
    deployment_id = fleet.add(lives.single_device())
    job_id = job_of(gg, deployment_id)
    states = [
        (gg.get_deployment(deploymentId=deployment_id)["deploymentStatus"], nonzero(counts(iot, job_id)))
    ]
    for _ in range(2):
        fleet.advance(deployment_id)
        states.append(
            (gg.get_deployment(deploymentId=deployment_id)["deploymentStatus"], nonzero(counts(iot, job_id)))
        )

    assert states == [
        ("ACTIVE", {"Queued": 1}),
        ("ACTIVE", {"InProgress": 1}),
        ("COMPLETED", {"Succeeded": 1}),
    ]
    job = iot.describe_job(jobId=job_id)["job"]
    assert (job["status"], job["targetSelection"]) == ("COMPLETED", "SNAPSHOT")
    assert "processingTargets" not in job["jobProcessDetails"]


def test_timed_lives_move_with_the_fake_clock_alone(fleet_clock: Clock) -> None:
    fleet = FleetFake(clock=fleet_clock.epoch)
    started = fleet_clock.epoch()
    rollout, canceled, replaced, single = (fleet.add(life) for life in lives.demo_lives(step_seconds=10))

    fleet_clock.advance(9)
    assert {fleet.get(d).step_index for d in (rollout, canceled, replaced, single)} == {0}
    fleet_clock.advance(1)
    assert {fleet.get(d).step_index for d in (rollout, canceled, replaced, single)} == {1}
    fleet_clock.advance(35)

    assert [fleet.get(d).status for d in (rollout, canceled, replaced, single)] == [
        "ACTIVE",
        "CANCELED",
        "INACTIVE",
        "COMPLETED",
    ]
    assert fleet.get(rollout).count("FAILED") == 3
    newest = fleet.deployments()[0]
    assert newest.revision_id == "2" and newest.created_at == started + 40
    assert newest.status == "ACTIVE" and newest.step_index == 0
    fleet_clock.advance(10)
    assert fleet.deployments()[0].step_index == 1
