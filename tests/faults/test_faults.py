"""Never miss, never spam: the real handlers under one injected fault at a time.

Every test ends with `world.check()`: each transition of each deployment's life reached the automation
subscriber (distinct transitionIds), the `ops` Slack channel and, for Failed/Stopped/TrackingFailed,
the `alerts` channel exactly once, and nothing was dead-lettered. Copies with the same transitionId
are accepted only where a test injected a failure after SNS had taken the message.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest

from ggwatch.adapters.sdk_config import FULL, HURRIED
from ggwatch.services.poller import PollReport
from ggwatch_local.greengrass import TRUNCATED_BODY, WRONGLY_TYPED_BODY, ErrorDetail, Fault, Step
from ggwatch_local.slack_receiver import Reply, invalid_payload, no_service, rate_limited, server_error, slow
from ggwatch_local.template import function_properties, load_template
from tests.factories import notification
from tests.faults.channels import ALERTS_PATH, OPS_PATH
from tests.faults.clock import LAMBDA_TIMEOUT_MS, RunTime, deadline_after
from tests.faults.faults import Action, Call, Phase, Stage, aws_error, crash
from tests.faults.lives import steps
from tests.faults.table import KIND
from tests.faults.world import SCHEDULE_SECONDS, World

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

FAILED = Step(
    "Failed",
    records_processed=3,
    invalid_input_records=1,
    error_message="Bulk deployment failed: 2 records could not be deployed.",
    error_details=(
        ErrorDetail("GroupNotFound", "Group <g-7> & *friends* do not exist."),
        ErrorDetail("AccessDenied", "Role `gg-role` may not CreateDeployment."),
    ),
)
THREE = ("bd-1", "bd-2", "bd-3")


def notified_up_to_date(world: World, *deployment_ids: str) -> None:
    """Given: every named deployment's current state was notified; then each moves one step on."""
    world.run_until_quiet()
    for deployment_id in deployment_ids:
        world.advance(deployment_id)


def polled(world: World) -> list[str | None]:
    """Deployments Greengrass was asked about, in order (an SDK retry does not count twice)."""
    return list(dict.fromkeys(call.deployment_id for call in world.greengrass.calls))


def reached(world: World) -> list[str]:
    """Deployments Greengrass was asked about, sorted: a run polls them concurrently, in no set order."""
    return sorted(filter(None, polled(world)))


# ---------------------------------------------------------------- Greengrass: isolation and retries


@pytest.mark.parametrize(
    "fault",
    [Fault.throttle(), Fault.server_error(), Fault.delay(5.0), Fault.drop_connection()],
    ids=["throttling-burst", "server-error-500", "timeout", "dropped-connection"],
)
def test_a_transient_greengrass_fault_is_absorbed_by_sdk_retries_within_the_run(
    make_world: Callable[..., World], fault: Fault
) -> None:
    # Given three deployments, and Greengrass failing all but the last SDK attempt for bd-2
    world = make_world(sdk_attempts=3, read_timeout=0.5)
    for deployment_id in THREE:
        world.add(deployment_id, *steps("Running", "Completed"))
    world.greengrass.inject(fault, operation="GetBulkDeploymentStatus", deployment_id="bd-2", times=2)

    # When the poller runs once
    summary = world.poll()

    # Then the retries absorbed it: every deployment was notified in that run
    assert summary is not None
    assert (summary["transitions"], summary["failed"]) == (3, 0)
    assert [c.fault for c in world.greengrass.calls if c.deployment_id == "bd-2"] == [
        fault.kind,
        fault.kind,
        None,
    ]
    # And through the rest of the lives every transition reaches every channel once
    for deployment_id in THREE:
        world.advance(deployment_id)
    world.run_until_quiet()
    world.check()


@pytest.mark.parametrize(
    ("fault", "attempts"),
    [
        (Fault.throttle(), 3),
        (Fault.server_error(), 3),
        (Fault.server_error(http_status=503, message="Service unavailable"), 3),
        (Fault.delay(5.0), 3),
        (Fault.drop_connection(), 3),
        (Fault.malformed_body(WRONGLY_TYPED_BODY), 1),
        (Fault.malformed_body(TRUNCATED_BODY), 1),
        (Fault.malformed_body(b"<html>Bad gateway</html>", http_status=502), 3),
    ],
    ids=[
        "throttling-outlasting-retries",
        "server-error-500",
        "unavailable-503",
        "timeout",
        "dropped-connection",
        "wrongly-typed-answer",
        "truncated-answer",
        "html-502-from-a-proxy",
    ],
)
def test_a_greengrass_failure_for_one_deployment_delays_only_it_and_a_later_run_notifies_it(
    make_world: Callable[..., World], fault: Fault, attempts: int
) -> None:
    # Given three deployments notified as Running, now Completed
    world = make_world(sdk_attempts=3, read_timeout=0.5)
    for deployment_id in THREE:
        world.add(deployment_id, *steps("Running", "Completed"))
    notified_up_to_date(world, *THREE)
    # And Greengrass failing every attempt to read bd-2 in the next run
    world.greengrass.inject(fault, operation="GetBulkDeploymentStatus", deployment_id="bd-2", times=attempts)

    # When the poller runs
    world.tick()
    summary = world.poll()

    # Then the others were notified in that run, and bd-2 is stored as it was, with nothing claimed
    assert summary is not None
    assert (summary["polled"], summary["transitions"], summary["failed"]) == (3, 2, 1)
    stored = world.item("bd-2")
    assert (stored["status"], "pending" in stored) == ("Running", False)
    # When later runs find Greengrass answering again
    world.run_until_quiet()
    # Then bd-2's transition was notified too, once on every channel
    world.check()


def test_an_unknown_id_is_notified_once_as_tracking_failed_and_then_no_longer_polled(world: World) -> None:
    # Given a real deployment and an ID Greengrass does not know, both tracked
    world.add("bd-ok", *steps("Running", "Completed"))
    world.add_unknown("bd-ghost")

    # When the poller runs many times while the real deployment lives on
    notified_up_to_date(world, "bd-ok")
    world.run_until_quiet()
    for _ in range(3):
        world.tick()
        world.poll()

    # Then the unknown ID was asked about once, notified once as an error, and dropped from polling
    assert sum(1 for call in world.greengrass.calls if call.deployment_id == "bd-ghost") == 1
    world.drain()
    ghost = [p.body for p in world.published if p.body["deploymentId"] == "bd-ghost"]
    assert [(b["eventType"], b["status"], b["terminal"]) for b in ghost] == [
        ("DeploymentTrackingFailed", "TrackingFailed", True)
    ]
    assert "bd-ghost" in ghost[0]["errorMessage"]
    assert "activeKind" not in world.item("bd-ghost")
    # And the real one was not held up; the error reached both Slack channels
    world.check()
    assert len(world.posts(ALERTS_PATH)) == 1


# ---------------------------------------------------------------- SNS, DynamoDB and crashes in the pipeline


def test_a_transition_sns_refuses_is_not_stored_as_notified_and_a_later_run_publishes_it(
    world: World,
) -> None:
    # Given two deployments notified as Running, now Completed
    world.add("bd-1", *steps("Running", "Completed"))
    world.add("bd-2", *steps("Running", "Completed"))
    notified_up_to_date(world, "bd-1", "bd-2")
    # And SNS refusing bd-1's notification in the next run
    world.calls.inject("publish", aws_error("InternalError"), deployment_id="bd-1")

    # When the poller runs
    world.tick()
    summary = world.poll()

    # Then bd-2 was notified; bd-1 was not, and is still stored as Running with its transition claimed
    assert summary is not None
    assert (summary["transitions"], summary["failed"]) == (1, 1)
    fresh = world.drain()
    assert [p.transition for p in fresh] == [("bd-2", "Running", "Completed")]
    stored = world.item("bd-1")
    assert stored["status"] == "Running"
    claimed = stored["pending"]["transitionId"]
    world.assert_honest(world.items(world.lives))
    # When later runs come, past the claim's lease
    world.run_until_quiet()
    # Then bd-1's transition was published once, with the transitionId that was claimed
    world.check()
    assert [p.transition_id for p in world.published if p.body["deploymentId"] == "bd-1"][-1] == claimed


@pytest.mark.parametrize(
    ("interruption", "published_by_run"),
    [
        ("sns-error", 1),
        ("sns-error-then-release-error", 2),
        ("crash-before-publish", 2),
    ],
)
def test_after_sns_failed_once_the_very_next_run_publishes_and_only_a_dead_runs_claim_waits(
    world: World, interruption: str, published_by_run: int
) -> None:
    # Given bd-1 notified as Running, now Failed
    world.add("bd-1", Step("Running", records_processed=1), FAILED)
    notified_up_to_date(world, "bd-1")
    # And the next run's publish of it refused by SNS (and the release after it refused by DynamoDB),
    # or the run killed before it publishes
    if interruption == "crash-before-publish":
        world.calls.inject("publish", crash, deployment_id="bd-1")
    else:
        world.calls.inject("publish", aws_error("InternalError"), deployment_id="bd-1")
    if interruption == "sns-error-then-release-error":
        world.calls.inject("release", aws_error("InternalServerError"), deployment_id="bd-1")
    world.tick()
    world.poll()
    assert world.drain() == []
    claimed = world.item("bd-1")["pending"]["transitionId"]

    # When the next scheduled runs come, one tick apart (the first well inside the 120 s lease)
    published_at = []
    for run in (1, 2):
        world.tick()
        world.poll()
        if [p.transition_id for p in world.drain()] == [claimed]:
            published_at.append(run)

    # Then the transition was published by the very next run when the failed run could release its
    # claim, and only after the lease when it could not; once, with the claimed transitionId
    assert published_at == [published_by_run]
    assert world.options.lease_seconds > SCHEDULE_SECONDS
    world.deliver_slack()
    world.check()


INTERRUPTIONS: list[tuple[Stage, Phase, Action, bool]] = [
    ("claim", "before", crash, False),
    ("claim", "before", aws_error("ProvisionedThroughputExceededException", 400), False),
    ("publish", "before", crash, False),
    ("publish", "before", aws_error("KMSThrottlingException", 400), False),
    ("publish", "after", crash, True),
    ("publish", "after", aws_error("RequestTimeout", 408), True),
    ("commit", "before", crash, True),
    ("commit", "before", aws_error("InternalServerError"), True),
    ("commit", "after", crash, False),
    ("cursor", "before", crash, False),
]


@pytest.mark.parametrize(
    ("stage", "phase", "action", "sns_took_it"),
    INTERRUPTIONS,
    ids=[
        "crash-before-claim",
        "dynamodb-error-on-claim",
        "crash-between-claim-and-publish",
        "sns-error-on-publish",
        "crash-between-publish-and-commit",
        "sns-took-it-but-the-answer-was-lost",
        "crash-before-commit",
        "dynamodb-error-on-commit",
        "crash-after-commit",
        "crash-at-the-deadline-cursor",
    ],
)
def test_a_transition_interrupted_at_any_step_is_notified_exactly_once_per_channel(
    world: World, stage: Stage, phase: Phase, action: Action, sns_took_it: bool
) -> None:
    # Given bd-1 notified as Running, now Failed (an alert), and bd-2 notified as Running, now Completed
    world.add("bd-1", Step("Running", records_processed=1), FAILED)
    world.add("bd-2", *steps("Running", "Completed"))
    notified_up_to_date(world, "bd-1", "bd-2")
    # And the next run interrupted at that step of bd-1's transition (or at the cursor write)
    world.calls.inject(stage, action, phase=phase, deployment_id=None if stage == "cursor" else "bd-1")

    # When the poller runs (cut short for the cursor case, so that it writes one)
    world.tick()
    world.poll(deadline_after(1).context if stage == "cursor" else None)
    world.drain()

    # Then the interruption happened, and the stored state claims no more than was published
    assert len(world.calls.fired) == 1
    world.assert_honest(world.items(world.lives))
    # When later runs come, past any claim's lease
    world.run_until_quiet()
    # Then every transition reached every channel once; where SNS had taken the messages of the
    # interrupted call (bd-1's, and bd-2's when they shared its PublishBatch call), each re-published
    # copy carries the same transitionId and Slack posted it once
    [fired] = world.calls.fired
    took_it = {d for d in (fired.deployment_id, *fired.batch) if d} if sns_took_it else set()
    assert took_it >= ({"bd-1"} if sns_took_it else set())
    figures = world.check(copies_allowed=took_it)
    assert figures.duplicates_dropped == len(took_it)


# ---------------------------------------------------------------- overlapping runs


def test_two_overlapping_runs_notify_each_transition_once(world: World) -> None:
    # Given five deployments with three states each
    ids = [f"bd-{i}" for i in range(1, 6)]
    for deployment_id in ids:
        world.add(deployment_id, *steps("Initializing", "Running", "Completed"))
    for state in range(3):
        if state:
            for deployment_id in ids:
                world.advance(deployment_id)
        # When two runs overlap, both reading each deployment's version before either claims it
        world.tick()
        outcomes = world.poll_overlapping(rendezvous="status")
        world.deliver_slack()
        # Then for each deployment one run published and the other lost the conditional claim
        reports = [outcome for outcome in outcomes if isinstance(outcome, PollReport)]
        assert len(reports) == 2, outcomes
        assert sum(len(report.notifications) for report in reports) == len(ids)
        assert sum(report.count("skipped") for report in reports) == len(ids)
    # And every transition reached every channel once
    world.check()


@pytest.mark.parametrize(
    ("stage", "phase", "second_run_sees"),
    [
        ("claim", "after", ("skipped", "claimed by another run")),
        ("publish", "after", ("skipped", "claimed by another run")),
        ("commit", "after", ("unchanged", None)),
    ],
    ids=["after-the-claim", "after-the-publish", "after-the-commit"],
)
def test_a_run_that_starts_while_another_is_mid_transition_leaves_the_transition_to_it(
    world: World, stage: Stage, phase: Phase, second_run_sees: tuple[str, str | None]
) -> None:
    # Given bd-1 notified as Initializing, now Running
    world.add("bd-1", *steps("Initializing", "Running", "Completed"))
    notified_up_to_date(world, "bd-1")
    # And a second run that starts while the first is paused at that point of bd-1's transition
    seconds: list[PollReport] = []
    world.calls.inject(
        stage, lambda call: seconds.append(world.poll_elsewhere()), phase=phase, deployment_id="bd-1"
    )

    # When the first run goes on and finishes
    world.tick()
    world.poll()
    world.deliver_slack()

    # Then the second run left bd-1 alone, and the transition was notified once
    assert [(o.result, o.detail) for o in seconds[0].outcomes] == [second_run_sees]
    world.run_until_quiet()
    world.check()


def test_two_overlapping_runs_that_find_the_same_expired_claim_publish_it_once(world: World) -> None:
    # Given the run that claimed bd-1's transition was killed before publishing it, and the lease passed
    world.add("bd-1", *steps("Running", "Completed"))
    notified_up_to_date(world, "bd-1")
    world.calls.inject("publish", crash, deployment_id="bd-1")
    world.tick()
    assert world.poll() is None
    world.tick(world.options.lease_seconds + 1)

    # When two runs overlap, both reading the expired claim before either acts on it
    outcomes = world.poll_overlapping(rendezvous="query")
    world.deliver_slack()

    # Then one run took the claim over and published it; the other lost the takeover
    reports = [outcome for outcome in outcomes if isinstance(outcome, PollReport)]
    assert sorted(len(report.notifications) for report in reports) == [0, 1]
    assert sum(report.count("skipped") for report in reports) == 1
    # And the transition reached every channel once
    world.check()


# ---------------------------------------------------------------- the deadline


def test_a_run_near_its_deadline_stops_starting_work_and_the_next_run_starts_with_those_not_reached(
    world: World,
) -> None:
    # Given five deployments, all new
    ids = [f"bd-{i}" for i in range(1, 6)]
    for deployment_id in ids:
        world.add(deployment_id, *steps("Running", "Completed"))

    # When a run has time for three of them only
    run_time = deadline_after(3)
    summary = world.poll(run_time.context)

    # Then it stopped before the fourth, still inside its safety margin
    assert summary is not None
    assert (summary["stoppedAtDeadline"], summary["polled"], summary["transitions"]) == (True, 3, 3)
    assert reached(world) == ["bd-1", "bd-2", "bd-3"]
    assert run_time.looks == 3 + 4
    # When the next run has time for two
    world.greengrass.clear_calls()
    world.tick()
    world.poll(deadline_after(2).context)
    # Then it polled the two not reached (deployments run concurrently: which started first is what
    # a run cut short shows)
    assert reached(world) == ["bd-4", "bd-5"]
    # And a run with the time it needs goes round to all of them
    world.greengrass.clear_calls()
    world.tick()
    summary = world.poll()
    assert summary is not None and summary["stoppedAtDeadline"] is False
    assert reached(world) == ids
    world.deliver_slack()
    for deployment_id in ids:
        world.advance(deployment_id)
    world.run_until_quiet()
    world.check()


def test_no_deployment_starves_when_every_run_is_cut_short(world: World) -> None:
    # Given five deployments, and runs that each have time for two
    ids = [f"bd-{i}" for i in range(1, 6)]
    for deployment_id in ids:
        world.add(deployment_id, *steps("Running", "Completed"))

    # When three such runs come
    order = []
    for _ in range(3):
        world.greengrass.clear_calls()
        world.tick()
        world.poll(deadline_after(2).context)
        order.append(reached(world))  # in parallel: the set each run reached is what counts

    # Then they took turns: every deployment was reached within three runs
    # (the third reads from its cursor, bd-5, then needs the time of a call to read on from the start:
    # its cursor goes back to the start, so bd-1 comes first in the next run)
    assert order == [["bd-1", "bd-2"], ["bd-3", "bd-4"], ["bd-5"]]
    # And with every run still cut short, the whole lives are notified once each: a finished V1
    # deployment's report page needs time too, so here each run finishes its first deployment and
    # defers the second to the next run, which polls it first
    world.deliver_slack()
    for deployment_id in ids:
        world.advance(deployment_id)
    for _ in range(len(ids)):
        world.tick()
        world.poll(deadline_after(2).context)
    world.deliver_slack()
    assert world.settled()
    world.check()


WORST_CASE_MS = {"full": FULL.worst_case_ms, "hurried": HURRIED.worst_case_ms}


def test_deployments_behind_persistently_slow_ones_do_not_starve(make_world: Callable[..., World]) -> None:
    # Given five deployments, of which bd-2, bd-3 and bd-4 answer only after every SDK attempt timed
    # out (the worst case of the budget the call was made with: 21 s, or 3 s near the end of a run),
    # and runs with the template's timeout. RunTime adds up the time slow calls spend, as calls made
    # one after the other do: so here the poller polls one deployment at a time (the time concurrent
    # calls spend together is their longest; tests/unit/test_poller_concurrency.py covers those)
    world = make_world(poll_concurrency=1)
    ids = [f"bd-{i}" for i in range(1, 6)]
    for deployment_id in ids:
        world.add(deployment_id, *steps("Running", "Completed"))
    run: list[RunTime] = []
    budgets: list[str | None] = []

    def slow(call: Call) -> None:
        budgets.append(call.budget)
        run[0].spend(WORST_CASE_MS[str(call.budget)])

    for laggard in ("bd-2", "bd-3", "bd-4"):
        world.calls.inject("status", slow, deployment_id=laggard, times=None)

    def scheduled_runs_until_settled() -> None:
        for _ in range(6):
            run[:] = [RunTime(LAMBDA_TIMEOUT_MS)]
            world.tick()
            world.poll(run[0].context)
            world.deliver_slack()
            if world.settled():
                return

    # When the poller runs every minute through both states of every life
    scheduled_runs_until_settled()
    for deployment_id in ids:
        world.advance(deployment_id)
    scheduled_runs_until_settled()

    # Then no run outlived its timeout, every deployment was reached, and each transition notified once;
    # near the end of a run the slow deployments were still polled, with the hurried budget
    assert world.crashes == 0
    assert "hurried" in budgets
    assert world.settled()
    world.check()


# ---------------------------------------------------------------- Slack


def slack_fault(world: World, *replies: Reply, path: str = OPS_PATH) -> None:
    """Given bd-1 goes Running then Failed, and Slack answers `replies` to the first posts to `path`;
    when the poller and the notifier run until both transitions are delivered."""
    world.add("bd-1", Step("Running", records_processed=1), FAILED)
    world.receiver.script(*replies, path=path)
    notified_up_to_date(world, "bd-1")
    world.run_until_quiet()


def replies_to(world: World, path: str) -> list[int]:
    return [request.reply.status for request in world.receiver.requests if request.path == path]


def test_slack_rate_limiting_is_retried_after_retry_after_and_posted_once(world: World) -> None:
    # Given ops answers its first post 429 with Retry-After: 3, when both transitions are delivered
    slack_fault(world, rate_limited(retry_after=3))

    # Then the client waited as told, posted again, and the invocation succeeded
    assert world.slack_sleeps == [3.0]
    assert replies_to(world, OPS_PATH) == [429, 200, 200]
    assert set(world.slack_attempts.values()) == {1}
    world.check()


def test_a_slack_500_is_retried_by_the_client_and_posted_once(world: World) -> None:
    # Given alerts answers its first post 500, when both transitions are delivered
    slack_fault(world, server_error(), path=ALERTS_PATH)

    # Then the client's own retry posted it, within the same invocation
    assert replies_to(world, ALERTS_PATH) == [500, 200]
    assert set(world.slack_attempts.values()) == {1}
    world.check()


def test_a_slack_timeout_without_a_post_is_retried_and_posted_once(make_world: Callable[..., World]) -> None:
    # Given ops does not take its first post and answers only after the client's 1 s timeout
    world = make_world(slack_timeout=1.0)
    slack_fault(world, Reply(504, "", delay_seconds=4.0))

    # Then the client gave up on it, posted again, and the channel shows each transition once
    assert replies_to(world, OPS_PATH) == [504, 200, 200]
    world.check()


def test_a_slack_post_that_timed_out_after_slack_took_it_shows_twice_at_least_once_is_the_limit(
    make_world: Callable[..., World],
) -> None:
    # Given Slack takes the first post but answers after the client gave up (webhooks have no
    # idempotency key, so the client cannot tell this from a lost post)
    world = make_world(slack_timeout=1.0)
    slack_fault(world, slow(4.0))

    # Then the message is not lost; the timed-out one shows a second time in that channel only
    world.drain()
    running = next(p.transition_id for p in world.published if p.body["status"] == "Running")
    failed = next(p.transition_id for p in world.published if p.body["status"] == "Failed")
    assert Counter(p.transition_id for p in world.posts(OPS_PATH)) == {running: 2, failed: 1}
    assert Counter(p.transition_id for p in world.posts(ALERTS_PATH)) == {failed: 1}
    assert set(world.slack_attempts.values()) == {1}


@pytest.mark.parametrize(
    "replies",
    [(invalid_payload(),), (no_service(),), (server_error(), server_error(), server_error())],
    ids=["invalid-payload", "no-service", "server-errors-outlasting-the-client"],
)
def test_one_failing_webhook_neither_keeps_the_other_from_the_message_nor_makes_it_post_twice(
    world: World, replies: tuple[Reply, ...]
) -> None:
    # Given the alerts webhook refuses the Failed notification's first invocation
    slack_fault(world, *replies, path=ALERTS_PATH)

    # Then the invocation failed and Lambda's retry posted to alerts only; ops has it once
    assert replies_to(world, ALERTS_PATH) == [r.status for r in replies] + [200]
    assert len(replies_to(world, OPS_PATH)) == 2
    assert sorted(world.slack_attempts.values()) == [1, 2]
    world.check()


def test_a_notifier_killed_mid_post_is_retried_after_its_claim_expired_and_posts_once(world: World) -> None:
    # Given the notifier is killed while posting to ops, after it claimed the delivery and before
    # Slack has the message: its claim stays `sending`, unreleased
    world.add("bd-1", Step("Running", records_processed=1), FAILED)
    world.slack_kills.append("ops")

    # When Lambda retries a minute later (the world's clock moves as Lambda waits)
    world.run_until_quiet()

    # Then the claim's lease, one webhook's worst case, had passed: the retry posted the message once;
    # alerts, which filters Running out, had nothing to do
    running = world.drain() or world.published
    assert [p.body["status"] for p in running] == ["Running"]
    assert sorted(world.slack_attempts.values()) == [2]
    assert len(world.posts(OPS_PATH)) == 1
    notified_up_to_date(world, "bd-1")
    world.run_until_quiet()
    world.check()


def test_a_burst_of_100_transitions_reaches_a_rate_limited_webhook_one_a_second_with_nothing_dead_lettered(
    world: World,
) -> None:
    # Given Lambda runs the notifier one invocation at a time (its reserved concurrency), as the
    # world's notifier subscription does, and Slack refuses a second message within a second
    assert function_properties(load_template(), "SlackNotifierFunction")["ReservedConcurrentExecutions"] == 1
    started = world.clock.epoch()

    # When 100 transitions that only ops wants are published at once
    burst = [
        notification(transition_id=f"burst-{i:03d}", deployment_id=f"bd-{i:03d}", status="Running")
        for i in range(100)
    ]
    for n in burst:
        world.send_to_slack_subscription(
            {"Type": "Notification", "MessageId": n.transition_id, "Message": n.to_json()}
        )
    world.deliver_slack()

    # Then ops shows every one exactly once, nothing was dead-lettered or even refused, each
    # invocation succeeded at once, and it took a second of the world's clock per message
    assert sorted(p.transition_id or "" for p in world.posts(OPS_PATH)) == [n.transition_id for n in burst]
    assert world.dead_letters == []
    assert [r.reply.status for r in world.receiver.requests] == [200] * 100
    assert set(world.slack_attempts.values()) == {1}
    assert 99 <= world.clock.epoch() - started < 101


def test_a_malformed_sns_record_is_skipped_without_retries_and_the_rest_is_delivered(world: World) -> None:
    # Given messages on the notifier's subscription that no retry could ever parse
    rogue = {
        "rogue-not-json": "{not json",
        "rogue-wrong-schema": json.dumps({"schemaVersion": "1", "status": "Failed"}),
        "rogue-not-a-string": None,
    }
    for message_id, message in rogue.items():
        world.send_to_slack_subscription(
            {"Type": "Notification", "MessageId": message_id, "Message": message}
        )
    world.add("bd-1", Step("Running", records_processed=1), FAILED)

    # When the notifier runs with them among ggwatch's own notifications
    notified_up_to_date(world, "bd-1")
    world.run_until_quiet()

    # Then each was tried once and dropped (not dead-lettered), and nothing was posted for them
    assert {key: world.slack_attempts[key] for key in rogue} == dict.fromkeys(rogue, 1)
    world.check()


# ---------------------------------------------------------------- garbled table items


def test_garbled_items_and_unreadable_claims_never_stop_the_others(world: World) -> None:
    # Given a deployment, and two garbled items in the active index beside it
    world.add("bd-1", Step("Running", records_processed=1), FAILED)
    active = {
        "activeKind": {"S": KIND},
        "deploymentKind": {"S": KIND},
        "trackedAt": {"S": "2026-03-01T08:00:00+00:00"},
    }
    world.put_item(
        {
            "pk": {"S": f"DEPLOYMENT#{KIND}#bd-garbled"},
            "deploymentId": {"S": "bd-garbled"},
            "version": {"S": "x"},
        }
        | active
    )
    stale_claim = {
        "transitionId": {"S": "0" * 32},
        "message": {"S": "{not a notification"},
        "claimedAt": {"S": "2020-01-01T00:00:00+00:00"},
    }
    world.add_unknown("bd-bad-claim")  # tracked, then its item hand-edited to hold an unreadable claim
    world.put_item(
        {
            "pk": {"S": f"DEPLOYMENT#{KIND}#bd-bad-claim"},
            "deploymentId": {"S": "bd-bad-claim"},
            "version": {"N": "3"},
            "pending": {"M": stale_claim},
        }
        | active
    )

    # When the poller runs
    summary = world.poll()

    # Then the garbled item was skipped, the unreadable claim dropped and its deployment observed afresh
    # (the fake does not know it: TrackingFailed), and the deployment was notified
    assert summary is not None
    assert (summary["transitions"], summary["corrupt"], summary["failed"]) == (2, 1, 0)
    notified_up_to_date(world, "bd-1")
    world.run_until_quiet()
    world.check()
