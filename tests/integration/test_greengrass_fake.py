"""The Greengrass bulk-deployment fake, exercised through a real boto3 client over loopback HTTP.

Every assertion goes through botocore's real request serializer and response parser, so these tests
also pin down that the fake speaks the wire format of the greengrass/2017-06-07 service model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from mypy_boto3_greengrass import GreengrassClient

from ggwatch_local.greengrass import (
    TRUNCATED_BODY,
    BulkDeploymentFake,
    ErrorDetail,
    Fault,
    GreengrassFakeServer,
    Step,
    assign_lives,
    lives,
    round_robin,
    seeded_random,
)
from tests.clock import Clock
from tests.waiting import BOUND_SECONDS, wait_until

ROLE = "arn:aws:iam::123456789012:role/GreengrassBulkDeploymentRole"
URI = "s3://ggwatch-test/bulk/input.jsonl"
START = datetime(2025, 6, 15, 15, 6, 40, tzinfo=UTC)
THROTTLING_CODES = {"TooManyRequestsException", "ThrottlingException", "Throttling"}


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def fake(clock: Clock) -> BulkDeploymentFake:
    return BulkDeploymentFake(clock=clock.epoch)


@pytest.fixture
def server(fake: BulkDeploymentFake) -> Iterator[GreengrassFakeServer]:
    with GreengrassFakeServer(fake) as running:
        yield running


def make_client(
    server: GreengrassFakeServer, *, attempts: int = 1, read_timeout: float = 5
) -> GreengrassClient:
    """A real greengrass client; ``attempts`` is botocore's total_max_attempts (1 = no retries)."""
    config = Config(
        retries={"total_max_attempts": attempts, "mode": "standard"},
        read_timeout=read_timeout,
        connect_timeout=2,
    )
    return boto3.client(
        "greengrass",
        region_name="us-east-1",
        endpoint_url=server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


@pytest.fixture
def client(server: GreengrassFakeServer) -> GreengrassClient:
    return make_client(server)


def without_metadata(response: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(response).items() if k != "ResponseMetadata"}


def error_of(info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str]:
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


# -- GetBulkDeploymentStatus ------------------------------------------------------------------------


def test_status_round_trips_every_field(fake: BulkDeploymentFake, client: GreengrassClient) -> None:
    # Given a deployment that failed with metrics, a message, error details and tags
    failed = Step(
        "Failed",
        records_processed=7,
        invalid_input_records=2,
        retry_attempts=3,
        error_message="Bulk deployment failed.",
        error_details=[ErrorDetail("GroupNotFound", "Group g1 does not exist."), ErrorDetail("E2", "second")],
    )
    bd = fake.add(life=[failed], tags={"team": "edge", "env": "test"})

    # When its status is read through boto3
    response = client.get_bulk_deployment_status(BulkDeploymentId=bd)

    # Then every modelled member arrives, parsed into the documented types
    assert without_metadata(response) == {
        "BulkDeploymentMetrics": {"InvalidInputRecords": 2, "RecordsProcessed": 7, "RetryAttempts": 3},
        "BulkDeploymentStatus": "Failed",
        "CreatedAt": "2025-06-15T15:06:40.000Z",
        "ErrorDetails": [
            {"DetailedErrorCode": "GroupNotFound", "DetailedErrorMessage": "Group g1 does not exist."},
            {"DetailedErrorCode": "E2", "DetailedErrorMessage": "second"},
        ],
        "ErrorMessage": "Bulk deployment failed.",
        "tags": {"team": "edge", "env": "test"},
    }
    assert response["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize(
    "operation",
    ["get_bulk_deployment_status", "list_bulk_deployment_detailed_reports", "stop_bulk_deployment"],
)
def test_unknown_id_is_a_bad_request_naming_the_id(client: GreengrassClient, operation: str) -> None:
    # Given no deployment with this id / When any per-deployment operation asks for it
    missing = "0b9f6c2e-0000-4000-8000-000000000000"
    call = getattr(client, operation)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(BulkDeploymentId=missing)
    # Then it is a 400 BadRequestException whose message names the id
    assert error_of(info) == ("BadRequestException", f"Bulk deployment {missing} does not exist.")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("malformed", ["has space", "a/b", "x" * 200, "semi;colon"])
def test_malformed_id_is_a_bad_request(client: GreengrassClient, malformed: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.get_bulk_deployment_status(BulkDeploymentId=malformed)
    code, message = error_of(info)
    assert code == "BadRequestException"
    assert message.startswith("Invalid bulk deployment id")


# -- StartBulkDeployment ------------------------------------------------------------------------------


def test_start_returns_id_and_arn_and_keeps_the_request(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    # When a bulk deployment is started with tags and a client token
    response = client.start_bulk_deployment(
        ExecutionRoleArn=ROLE, InputFileUri=URI, tags={"k": "v"}, AmznClientToken="token-1"
    )

    # Then the id and ARN come back, and the fake holds what was sent
    bd = response["BulkDeploymentId"]
    assert (
        response["BulkDeploymentArn"]
        == f"arn:aws:greengrass:us-east-1:123456789012:/greengrass/bulk/deployments/{bd}"
    )
    view = fake.get(bd)
    assert (view.status, view.execution_role_arn, view.input_file_uri, view.tags) == (
        "Initializing",
        ROLE,
        URI,
        {"k": "v"},
    )
    assert fake.calls[-1].operation == "StartBulkDeployment"
    assert fake.calls[-1].client_token == "token-1"


def test_start_with_the_same_client_token_is_idempotent(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    first = client.start_bulk_deployment(ExecutionRoleArn=ROLE, InputFileUri=URI, AmznClientToken="same")
    second = client.start_bulk_deployment(ExecutionRoleArn=ROLE, InputFileUri=URI, AmznClientToken="same")
    assert first["BulkDeploymentId"] == second["BulkDeploymentId"]
    assert len(fake.ids()) == 1


def test_reusing_a_client_token_with_other_parameters_is_rejected(client: GreengrassClient) -> None:
    client.start_bulk_deployment(ExecutionRoleArn=ROLE, InputFileUri=URI, AmznClientToken="t")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.start_bulk_deployment(
            ExecutionRoleArn=ROLE, InputFileUri="s3://other/key", AmznClientToken="t"
        )
    assert error_of(info)[0] == "BadRequestException"


def test_start_is_refused_while_another_deployment_is_not_terminal(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    # Given a running deployment
    running = fake.add(life=[Step("Running"), Step("Completed")])
    # When another one is started, Then AWS's one-at-a-time rule applies
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.start_bulk_deployment(ExecutionRoleArn=ROLE, InputFileUri=URI)
    assert error_of(info) == (
        "BadRequestException",
        f"Cannot start a new bulk deployment while bulk deployment {running} is still in a non-terminal state.",
    )
    # And once it finished, starting works
    fake.advance(running)
    assert client.start_bulk_deployment(ExecutionRoleArn=ROLE, InputFileUri=URI)["BulkDeploymentId"]


def test_start_with_an_invalid_role_arn_is_a_bad_request(client: GreengrassClient) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.start_bulk_deployment(ExecutionRoleArn="not-an-arn", InputFileUri=URI)
    assert error_of(info)[0] == "BadRequestException"


def test_started_deployments_get_lives_from_the_chooser(clock: Clock) -> None:
    fake = BulkDeploymentFake(
        clock=clock.epoch, chooser=round_robin([lives.fails()]), allow_concurrent_starts=True
    )
    with GreengrassFakeServer(fake) as server:
        bd = make_client(server).start_bulk_deployment(ExecutionRoleArn=ROLE, InputFileUri=URI)[
            "BulkDeploymentId"
        ]
    assert fake.get(bd).life == lives.fails()


# -- ListBulkDeployments / ListBulkDeploymentDetailedReports --------------------------------------------


def test_list_bulk_deployments_pages_newest_first(
    fake: BulkDeploymentFake, clock: Clock, client: GreengrassClient
) -> None:
    # Given five deployments created a minute apart
    ids = []
    for _ in range(5):
        ids.append(fake.add(life=[Step("Completed")]))
        clock.advance(60)

    # When paging two at a time
    pages = list(client.get_paginator("list_bulk_deployments").paginate(PaginationConfig={"PageSize": 2}))

    # Then all come back, newest first, in pages of 2, 2, 1 with ARN and CreatedAt
    assert [len(p["BulkDeployments"]) for p in pages] == [2, 2, 1]
    listed = [item for page in pages for item in page["BulkDeployments"]]
    assert [item["BulkDeploymentId"] for item in listed] == ids[::-1]
    assert listed[-1] == {
        "BulkDeploymentArn": fake.get(ids[0]).arn,
        "BulkDeploymentId": ids[0],
        "CreatedAt": "2025-06-15T15:06:40.000Z",
    }
    assert "NextToken" not in pages[-1]


@pytest.mark.parametrize("params", [{"NextToken": "garbage"}, {"MaxResults": "0"}, {"MaxResults": "ten"}])
def test_list_with_bad_paging_parameters_is_a_bad_request(
    client: GreengrassClient, params: dict[str, str]
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.list_bulk_deployments(**params)
    assert error_of(info)[0] == "BadRequestException"


def test_detailed_reports_page_through_groups_and_show_failures(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    # Given a deployment that failed after processing 5 groups, 2 of them with errors
    details = [ErrorDetail("GroupNotFound", "Group missing."), ErrorDetail("AccessDenied", "Role denied.")]
    bd = fake.add(life=[Step("Failed", records_processed=5, error_message="failed", error_details=details)])

    # When its detailed reports are paged two at a time
    paginator = client.get_paginator("list_bulk_deployment_detailed_reports")
    pages = list(paginator.paginate(BulkDeploymentId=bd, PaginationConfig={"PageSize": 2}))

    # Then there is one report per group; the last two failed, one error detail each
    reports = [r for page in pages for r in page["Deployments"]]
    assert [len(p["Deployments"]) for p in pages] == [2, 2, 1]
    assert [r["DeploymentStatus"] for r in reports] == ["Success"] * 3 + ["Failure"] * 2
    assert reports[3]["ErrorMessage"] == "Group missing."
    assert reports[4]["ErrorDetails"] == [
        {"DetailedErrorCode": "AccessDenied", "DetailedErrorMessage": "Role denied."}
    ]
    first = reports[0]
    assert first["DeploymentType"] == "NewDeployment"
    assert first["DeploymentArn"].startswith(first["GroupArn"] + "/deployments/")
    assert first["DeploymentArn"].endswith(first["DeploymentId"])
    assert first["CreatedAt"] == "2025-06-15T15:06:40.000Z"


def test_detailed_reports_show_the_latest_group_in_progress_while_running(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    bd = fake.add(life=[Step("Running", records_processed=3)])
    reports = client.list_bulk_deployment_detailed_reports(BulkDeploymentId=bd)["Deployments"]
    assert [r["DeploymentStatus"] for r in reports] == ["Success", "Success", "InProgress"]


# -- StopBulkDeployment -----------------------------------------------------------------------------


def test_stop_moves_a_running_deployment_through_stopping_to_stopped(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    # Given a running deployment that processed 4 records
    bd = fake.add(life=[Step("Running", records_processed=4), Step("Completed", records_processed=9)])
    # When it is stopped
    client.stop_bulk_deployment(BulkDeploymentId=bd)
    # Then it reports Stopping with the metrics it had, and Stopped after the next step
    status = client.get_bulk_deployment_status(BulkDeploymentId=bd)
    assert (status["BulkDeploymentStatus"], status["BulkDeploymentMetrics"]["RecordsProcessed"]) == (
        "Stopping",
        4,
    )
    client.stop_bulk_deployment(BulkDeploymentId=bd)  # stopping again is harmless
    fake.advance(bd)
    assert client.get_bulk_deployment_status(BulkDeploymentId=bd)["BulkDeploymentStatus"] == "Stopped"


def test_stopping_finishes_by_itself_when_a_stopping_duration_is_set(clock: Clock) -> None:
    fake = BulkDeploymentFake(clock=clock.epoch, stopping_duration=10)
    bd = fake.add(life=[Step("Running")])
    with GreengrassFakeServer(fake) as server:
        client = make_client(server)
        client.stop_bulk_deployment(BulkDeploymentId=bd)
        clock.advance(9.9)
        assert client.get_bulk_deployment_status(BulkDeploymentId=bd)["BulkDeploymentStatus"] == "Stopping"
        clock.advance(0.1)
        assert client.get_bulk_deployment_status(BulkDeploymentId=bd)["BulkDeploymentStatus"] == "Stopped"


def test_stopping_a_finished_deployment_is_a_bad_request(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    bd = fake.add(life=[Step("Completed")])
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client.stop_bulk_deployment(BulkDeploymentId=bd)
    assert error_of(info) == (
        "BadRequestException",
        f"Cannot stop bulk deployment {bd} because it is in a terminal state: Completed.",
    )


# -- scripted and time-based lives --------------------------------------------------------------------


def status_of(client: GreengrassClient, bd: str) -> tuple[str, int]:
    response = client.get_bulk_deployment_status(BulkDeploymentId=bd)
    return response["BulkDeploymentStatus"], response["BulkDeploymentMetrics"]["RecordsProcessed"]


def test_a_scripted_life_moves_only_when_advanced(
    fake: BulkDeploymentFake, clock: Clock, client: GreengrassClient
) -> None:
    # Given a deployment living the 'completes' life with manual steps
    bd = fake.add(life=lives.completes(records=9, batches=3))
    seen = [status_of(client, bd)]
    # When time passes, Then nothing changes
    clock.advance(3600)
    assert status_of(client, bd) == seen[0]
    # When it is advanced step by step, Then it walks its life, RecordsProcessed growing
    while not fake.get(bd).step.is_terminal:
        fake.advance(bd)
        seen.append(status_of(client, bd))
    assert seen == [("Initializing", 0), ("Running", 3), ("Running", 6), ("Running", 9), ("Completed", 9)]
    with pytest.raises(ValueError, match="last step"):
        fake.advance(bd)


def test_set_status_jumps_to_a_given_state(fake: BulkDeploymentFake, client: GreengrassClient) -> None:
    bd = fake.add(life=[Step("Running", records_processed=2), Step("Completed")])
    fake.set_status(bd, "Failed")
    assert status_of(client, bd) == ("Failed", 2)
    fake.set_status(bd, Step("Completed", records_processed=5))
    assert status_of(client, bd) == ("Completed", 5)


def test_a_timed_life_progresses_with_the_injected_clock(
    fake: BulkDeploymentFake, clock: Clock, client: GreengrassClient
) -> None:
    # Given a life whose steps last 5 s each
    bd = fake.add(life=lives.completes(records=4, batches=2, step_seconds=5))
    # Then the status follows the clock, skipping steps when polled rarely
    assert status_of(client, bd) == ("Initializing", 0)
    clock.advance(4.99)
    assert status_of(client, bd) == ("Initializing", 0)
    clock.advance(0.01)
    assert status_of(client, bd) == ("Running", 2)
    clock.advance(10)
    assert status_of(client, bd) == ("Completed", 4)


def test_named_lives_end_the_way_their_names_say() -> None:
    completed, failed, stopped, problems = (
        lives.completes()[-1],
        lives.fails()[-1],
        lives.stopped()[-1],
        lives.invalid_records_with_retries()[-1],
    )
    assert completed.status == "Completed"
    assert failed.status == "Failed"
    assert failed.error_message
    assert len(failed.error_details) >= 2
    assert [s.status for s in lives.stopped()][-2:] == ["Stopping", "Stopped"]
    assert stopped.status == "Stopped"
    assert problems.status == "Completed"
    assert problems.invalid_input_records > 0
    assert problems.retry_attempts > 0
    assert all(step.duration is None for step in lives.completes())
    assert all(step.duration == 2 for step in lives.fails(step_seconds=2)[:-1])


def test_choosers_hand_out_lives_round_robin_or_reproducibly_at_random() -> None:
    pool = lives.demo_lives(step_seconds=1)
    assert assign_lives(5, round_robin(pool)) == [*pool, pool[0]]
    assert assign_lives(8, seeded_random(pool, seed=7)) == assign_lives(8, seeded_random(pool, seed=7))
    assert set(assign_lives(50, seeded_random(pool, seed=7))) == set(pool)


# -- fault injection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.throttle(), Fault.throttle(http_status=400, error_code="ThrottlingException")],
    ids=["429-TooManyRequests", "400-ThrottlingException"],
)
def test_throttling_without_retries_surfaces_a_throttling_code(
    fake: BulkDeploymentFake, server: GreengrassFakeServer, fault: Fault
) -> None:
    bd = fake.add(life=[Step("Running")])
    fake.inject(fault, operation="GetBulkDeploymentStatus")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        make_client(server, attempts=1).get_bulk_deployment_status(BulkDeploymentId=bd)
    assert error_of(info)[0] in THROTTLING_CODES
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == fault.http_status


def test_throttling_is_retried_by_botocore_until_it_succeeds(
    fake: BulkDeploymentFake, server: GreengrassFakeServer
) -> None:
    # Given the next status call is throttled once
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.throttle(), operation="GetBulkDeploymentStatus", times=1)
    # When a client with retries polls
    response = make_client(server, attempts=3).get_bulk_deployment_status(BulkDeploymentId=bd)
    # Then botocore retried and got the real answer; the call log shows both attempts
    assert response["BulkDeploymentStatus"] == "Running"
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [c.fault for c in fake.calls] == ["throttle", None]


def test_server_errors_are_modelled_and_retried(
    fake: BulkDeploymentFake, server: GreengrassFakeServer
) -> None:
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.server_error(), deployment_id=bd, times=2)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        make_client(server, attempts=1).get_bulk_deployment_status(BulkDeploymentId=bd)
    assert error_of(info) == ("InternalServerErrorException", "Internal server error")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert make_client(server, attempts=2).get_bulk_deployment_status(BulkDeploymentId=bd)[
        "BulkDeploymentStatus"
    ]


def test_a_delay_longer_than_the_read_timeout_times_out(
    fake: BulkDeploymentFake, server: GreengrassFakeServer
) -> None:
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.delay(30))  # cut short when the server stops; no answer can beat the timeout
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        make_client(server, read_timeout=0.2).get_bulk_deployment_status(BulkDeploymentId=bd)


def test_a_short_delay_still_answers(fake: BulkDeploymentFake, client: GreengrassClient) -> None:
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.delay(0.2))
    started = time.monotonic()
    assert client.get_bulk_deployment_status(BulkDeploymentId=bd)["BulkDeploymentStatus"] == "Running"
    assert time.monotonic() - started >= 0.2


def test_a_malformed_body_makes_botocore_fail_to_parse(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    # Given a 200 whose JSON has a string where the model says integer
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.malformed_body())
    # Then botocore's rest-json parser raises (it has no ResponseParserError for this: int() fails)
    with pytest.raises(ValueError, match="invalid literal for int"):
        client.get_bulk_deployment_status(BulkDeploymentId=bd)


def test_a_truncated_body_parses_to_an_answer_without_a_status(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    # botocore turns non-JSON 200 bodies into an empty result instead of raising: callers must cope
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.malformed_body(TRUNCATED_BODY))
    assert without_metadata(client.get_bulk_deployment_status(BulkDeploymentId=bd)) == {}


def test_a_dropped_connection_is_a_connection_error_unless_retried(
    fake: BulkDeploymentFake, server: GreengrassFakeServer
) -> None:
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.drop_connection(), times=2)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        make_client(server, attempts=1).get_bulk_deployment_status(BulkDeploymentId=bd)
    assert make_client(server, attempts=2).get_bulk_deployment_status(BulkDeploymentId=bd)[
        "BulkDeploymentStatus"
    ]


def test_a_start_whose_answer_was_lost_is_not_duplicated_when_retried_with_a_client_token(
    fake: BulkDeploymentFake, server: GreengrassFakeServer
) -> None:
    # Given the start takes effect but its response is lost
    fake.inject(Fault.drop_connection(after_processing=True), operation="StartBulkDeployment")
    # When botocore retries it; the model does not mark the token as idempotencyToken, so it is ours to send
    response = make_client(server, attempts=2).start_bulk_deployment(
        ExecutionRoleArn=ROLE, InputFileUri=URI, AmznClientToken="start-1"
    )
    # Then the retry is recognised: one deployment, both attempts carrying the token
    assert fake.ids() == [response["BulkDeploymentId"]]
    assert [c.client_token for c in fake.calls] == ["start-1", "start-1"]


def test_a_retried_start_without_a_client_token_runs_into_its_own_first_attempt(
    fake: BulkDeploymentFake, server: GreengrassFakeServer
) -> None:
    # Given the start takes effect but its response is lost, and no client token is sent
    fake.inject(Fault.drop_connection(after_processing=True), operation="StartBulkDeployment")
    # When botocore retries, Then the retry is a second start and is refused (the first one is active)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        make_client(server, attempts=2).start_bulk_deployment(ExecutionRoleArn=ROLE, InputFileUri=URI)
    assert "non-terminal state" in error_of(info)[1]
    assert len(fake.ids()) == 1
    assert [c.client_token for c in fake.calls] == [None, None]


def test_faults_only_hit_the_operation_and_deployment_they_target(
    fake: BulkDeploymentFake, client: GreengrassClient
) -> None:
    target, other = fake.add(life=[Step("Running")]), fake.add(life=[Step("Running")])
    fake.inject(Fault.server_error(), operation="GetBulkDeploymentStatus", deployment_id=target)
    client.list_bulk_deployment_detailed_reports(BulkDeploymentId=target)
    client.get_bulk_deployment_status(BulkDeploymentId=other)
    with pytest.raises(botocore.exceptions.ClientError):
        client.get_bulk_deployment_status(BulkDeploymentId=target)
    client.get_bulk_deployment_status(BulkDeploymentId=target)  # used up
    assert [(c.operation, c.deployment_id, c.fault) for c in fake.calls] == [
        ("ListBulkDeploymentDetailedReports", target, None),
        ("GetBulkDeploymentStatus", other, None),
        ("GetBulkDeploymentStatus", target, "server_error"),
        ("GetBulkDeploymentStatus", target, None),
    ]


# -- the server itself --------------------------------------------------------------------------------


def test_the_server_starts_and_stops_many_times_on_fresh_ports(fake: BulkDeploymentFake) -> None:
    bd = fake.add(life=[Step("Running")])
    for _ in range(5):
        with GreengrassFakeServer(fake) as server:
            assert make_client(server).get_bulk_deployment_status(BulkDeploymentId=bd)["BulkDeploymentStatus"]
        with pytest.raises(RuntimeError):
            _ = server.endpoint_url


def test_stopping_the_server_cuts_short_an_in_flight_delay(fake: BulkDeploymentFake) -> None:
    bd = fake.add(life=[Step("Running")])
    fake.inject(Fault.delay(30))
    server = GreengrassFakeServer(fake).start()
    errors: list[Exception] = []

    def poll() -> None:
        try:  # a read timeout longer than the delay: only the server's stop can end this call early
            make_client(server, read_timeout=60).get_bulk_deployment_status(BulkDeploymentId=bd)
        except Exception as error:
            errors.append(error)

    caller = threading.Thread(target=poll, daemon=True)
    caller.start()
    wait_until(lambda: fake.calls, "the call reaching the fake")
    server.stop()
    caller.join(timeout=BOUND_SECONDS)
    assert not caller.is_alive(), f"the call still waits {BOUND_SECONDS:g} s after the stop: the delay ran on"
    assert len(errors) == 1


def test_clients_find_the_fake_through_the_service_endpoint_variable(
    fake: BulkDeploymentFake, server: GreengrassFakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bd = fake.add(life=[Step("Running")])
    monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASS", server.endpoint_url)
    client = boto3.client(
        "greengrass",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert client.get_bulk_deployment_status(BulkDeploymentId=bd)["BulkDeploymentStatus"] == "Running"


def test_concurrent_pollers_see_consistent_states_while_a_life_is_advanced(
    fake: BulkDeploymentFake, server: GreengrassFakeServer
) -> None:
    bd = fake.add(life=lives.completes(records=20, batches=10))
    order = [s.status for s in lives.completes(records=20, batches=10)]
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def poll() -> None:
        client = make_client(server)
        for _ in range(10):
            result = status_of(client, bd)
            with lock:
                seen.append(result)

    pollers = [threading.Thread(target=poll) for _ in range(4)]
    for thread in pollers:
        thread.start()
    while not fake.get(bd).step.is_terminal:
        fake.advance(bd)
    for thread in pollers:
        thread.join()
    assert len(seen) == 40
    assert all(status in order for status, _ in seen)
    assert all(0 <= processed <= 20 for _, processed in seen)
