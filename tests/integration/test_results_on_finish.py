"""A finished V1 bulk deployment's `results`, read from the simulator's ListBulkDeploymentDetailedReports
over HTTP: every page, the first failures, the cut flag, a failed read that never holds back the
terminal transition; and the same through the real poller handler with moto."""

from __future__ import annotations

from typing import Any, Final

import boto3
import pytest
from botocore.config import Config

from ggwatch.adapters.greengrass_v1 import GreengrassV1BulkSource
from ggwatch.domain import results
from ggwatch.exceptions import DeadlineReachedError, SourceThrottledError
from ggwatch.ports import Deadline
from ggwatch_local.greengrass import BulkDeploymentFake, ErrorDetail, Fault, Step
from ggwatch_local.lambda_runtime import LambdaContext, load_handler
from tests.integration.conftest import TopicWithSubscriber

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

REPORTS: Final = "ListBulkDeploymentDetailedReports"
FAST_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 2})


def failed_life(*, groups: int, failures: int) -> list[Step]:
    """Running, then Failed after `groups` group deployments of which the last `failures` failed."""
    details = [ErrorDetail(f"Code{i}", f"group {i} <@here> could not deploy") for i in range(failures)]
    return [
        Step("Running", records_processed=groups // 2),
        Step("Failed", records_processed=groups, error_message="boom", error_details=details),
    ]


def report_calls(greengrass: BulkDeploymentFake) -> int:
    return sum(call.operation == REPORTS for call in greengrass.calls)


def test_a_finished_deployment_reads_every_page_and_names_the_first_failures(
    greengrass: BulkDeploymentFake,
) -> None:
    # Given a deployment that failed after 120 group deployments, 30 of them failed (3 pages of 50)
    greengrass.add("bd-1", failed_life(groups=120, failures=30)[1:])
    # When the source reads it
    observation = GreengrassV1BulkSource().get_status("bd-1")
    # Then every page was read: all 120 are counted, the first 25 failures named, the list flagged as cut
    found = observation.results
    assert found is not None and found.error is None
    assert report_calls(greengrass) == 3
    assert (found.total, found.counts) == (120, {"Success": 90, "Failure": 30})
    assert len(found.failures) == results.MAX_FAILURES and found.truncated
    first = found.failures[0]
    assert first.message == "group 0 <@here> could not deploy"
    assert first.group_arn is not None and first.group_arn.startswith("arn:aws:greengrass:us-east-1:")
    assert first.deployment_id is not None and first.error_details[0].code == "Code0"


def test_a_running_deployment_reads_no_reports(greengrass: BulkDeploymentFake) -> None:
    greengrass.add("bd-1", failed_life(groups=10, failures=2))
    observation = GreengrassV1BulkSource().get_status("bd-1")
    assert observation.results is None and report_calls(greengrass) == 0


def test_a_failed_report_read_still_delivers_the_terminal_status_and_says_why(
    greengrass: BulkDeploymentFake, no_retry_delay: None
) -> None:
    # Given a finished deployment whose reports answer server errors on every attempt
    greengrass.add("bd-1", failed_life(groups=4, failures=1)[1:])
    greengrass.inject(Fault.server_error(), operation=REPORTS, times=10)
    # When the source reads it
    observation = GreengrassV1BulkSource().get_status("bd-1")
    # Then the terminal status is there, and the results say why they are missing
    assert observation.status == "Failed"
    assert observation.results is not None and observation.results.counts == {}
    assert observation.results.error is not None and REPORTS in observation.results.error


def test_throttled_reports_retry_the_whole_observation_on_the_next_run(
    greengrass: BulkDeploymentFake,
) -> None:
    greengrass.add("bd-1", failed_life(groups=4, failures=1)[1:])
    greengrass.inject(Fault.throttle(), operation=REPORTS, times=5)
    with pytest.raises(SourceThrottledError):
        GreengrassV1BulkSource(boto3.client("greengrass", config=FAST_RETRIES)).get_status("bd-1")


def test_each_report_page_waits_for_the_run_to_allow_it(greengrass: BulkDeploymentFake) -> None:
    # Given a finished deployment with 3 pages of reports, and a run with time for 2 calls after the status
    greengrass.add("bd-1", failed_life(groups=120, failures=30)[1:])

    def deadline(partial: bool) -> Deadline:
        allowed = iter([True, True])
        return Deadline(lambda: next(allowed, False), partial=partial)

    # When the source reads it, the third page is refused: no results from some pages only
    with pytest.raises(DeadlineReachedError, match=REPORTS):
        GreengrassV1BulkSource().get_status("bd-1", deadline(partial=False))
    assert report_calls(greengrass) == 2
    # And a partial answer has the terminal status, with results saying why they are missing
    observation = GreengrassV1BulkSource().get_status("bd-1", deadline(partial=True))
    assert observation.status == "Failed" and observation.results is not None
    assert observation.results.counts == {} and observation.results.error is not None
    assert "ran out of time" in observation.results.error


# -- through the real poller handler ------------------------------------------------------------------


def poll(context: LambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = load_handler("poller").lambda_handler({}, context)
    return result


@pytest.mark.usefixtures("app_environment")
def test_the_poller_publishes_results_once_with_the_terminal_status(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    # Given a tracked deployment that runs, then fails after 60 groups (2 pages), 3 of them failed
    greengrass.add("bd-1", failed_life(groups=60, failures=3))
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    # When the poller runs while it runs, then twice once it failed
    poll(lambda_context)
    greengrass.advance("bd-1")
    poll(lambda_context)
    poll(lambda_context)
    bodies = [delivered.body for delivered in topic.drain()]
    # Then the running notification has no results; the terminal one has them, published once
    assert [(b["status"], b["results"] is None) for b in bodies] == [("Running", True), ("Failed", False)]
    finished = bodies[1]["results"]
    assert finished["total"] == 60 and finished["counts"] == {"Success": 57, "Failure": 3}
    assert [f["errorDetails"][0]["code"] for f in finished["failures"]] == ["Code0", "Code1", "Code2"]
    assert finished["truncated"] is False and finished["error"] is None
    # And the reports were read once, on the run that saw the terminal status
    assert report_calls(greengrass) == 2


@pytest.mark.usefixtures("app_environment", "no_retry_delay")
def test_the_poller_notifies_the_terminal_status_when_the_reports_cannot_be_read(
    greengrass: BulkDeploymentFake, topic: TopicWithSubscriber, lambda_context: LambdaContext
) -> None:
    # Given a tracked deployment that fails while its reports are unreadable
    greengrass.add("bd-1", failed_life(groups=4, failures=1)[1:])
    greengrass.inject(Fault.server_error(), operation=REPORTS, times=100)
    load_handler("tracker").lambda_handler({"bulkDeploymentId": "bd-1"}, lambda_context)
    # When the poller runs twice
    poll(lambda_context)
    poll(lambda_context)
    # Then the terminal status was published once, saying why its results are missing
    (body,) = [delivered.body for delivered in topic.drain()]
    assert body["status"] == "Failed" and body["terminal"] is True
    assert REPORTS in body["results"]["error"]
    assert poll(lambda_context)["polled"] == 0
