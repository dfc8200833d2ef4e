"""The webhook client against the local Slack stand-in: retries that help, none that cannot."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from ggwatch.adapters.slack_webhook import RetryPolicy, SlackWebhookClient
from ggwatch.domain.models import ErrorDetail, Metrics
from ggwatch.domain.notification import Notification
from ggwatch.exceptions import DeliveryError
from ggwatch.slack.blocks import render
from ggwatch.slack.webhooks import Webhook, parse_webhooks
from ggwatch_local.slack_receiver import (
    Reply,
    SlackReceiver,
    channel_is_archived,
    invalid_payload,
    no_service,
    rate_limited,
    render_for_terminal,
    server_error,
    slow,
)

PATH = "/services/T0SECRET/B0SECRET/xoxSECRETtoken"
PAYLOAD = {"text": "hello", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}


class Sleeps:
    """A controlled clock: sleeping moves it on at once, and remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 1000.0

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def receiver(sleeps: Sleeps) -> Iterator[SlackReceiver]:
    with SlackReceiver(clock=sleeps.clock) as started:
        yield started


def webhook_at(url: str, name: str = "ops") -> Webhook:
    (webhook,) = parse_webhooks(json.dumps([{"url": url, "name": name}])).webhooks
    return webhook


@pytest.fixture
def webhook(receiver: SlackReceiver) -> Webhook:
    return webhook_at(receiver.url(PATH))


@pytest.fixture
def client(sleeps: Sleeps) -> SlackWebhookClient:
    """The default timeouts (no post to loopback comes near them), on the controlled clock."""
    return SlackWebhookClient(sleep=sleeps, random_fraction=lambda: 0.5, clock=sleeps.clock)


def test_a_post_is_delivered_once_as_json(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient
) -> None:
    client.post(webhook, PAYLOAD)

    assert receiver.messages == [(PATH, PAYLOAD)]


def test_rate_limiting_waits_for_retry_after_then_posts_and_holds_back_the_next_post(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient, sleeps: Sleeps
) -> None:
    # Given Slack answers 429 with Retry-After: 2 once
    receiver.script(rate_limited(retry_after=2))

    # When posting
    client.post(webhook, PAYLOAD)

    # Then the client waited exactly what Slack asked and the second attempt landed
    assert sleeps.delays == [2.0]
    assert [r.reply.status for r in receiver.requests] == [429, 200]
    assert receiver.messages == [(PATH, PAYLOAD)]

    # And the next message, coming at once, waits one interval after the accepted post
    client.post(webhook, PAYLOAD)
    assert sleeps.delays == [2.0, 1.0]


def test_a_long_retry_after_is_capped(receiver: SlackReceiver, webhook: Webhook, sleeps: Sleeps) -> None:
    receiver.script(rate_limited(retry_after=3600))
    client = SlackWebhookClient(
        RetryPolicy(max_retry_after_seconds=3, max_total_seconds=60), sleep=sleeps, clock=sleeps.clock
    )

    client.post(webhook, PAYLOAD)

    assert sleeps.delays == [3.0]


def test_a_server_error_is_retried_with_jittered_backoff(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient, sleeps: Sleeps
) -> None:
    receiver.script(server_error(), server_error())

    client.post(webhook, PAYLOAD)

    # full jitter with random() = 0.5: half of 0.5 s, then half of 1 s
    assert sleeps.delays == [0.25, 0.5]
    assert len(receiver.requests) == 3
    assert len(receiver.messages) == 1


def test_server_errors_give_up_after_the_attempt_limit(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient
) -> None:
    receiver.script(*[server_error()] * 5)

    with pytest.raises(DeliveryError, match=r"'ops' failed after 3 attempt\(s\): HTTP 500 rollup_error"):
        client.post(webhook, PAYLOAD)

    assert len(receiver.requests) == 3
    assert receiver.messages == []


def test_a_timeout_is_retried(receiver: SlackReceiver, webhook: Webhook, sleeps: Sleeps) -> None:
    # Given the first answer is held until the receiver stops, far past the client's 1 s timeout
    receiver.script(slow(60.0))
    client = SlackWebhookClient(RetryPolicy(timeout_seconds=1.0), sleep=sleeps, clock=sleeps.clock)

    # When posting
    client.post(webhook, PAYLOAD)

    # Then the client gave up on it and tried again (Slack may have posted both: at least once)
    assert len(receiver.requests) == 2
    assert receiver.requests[1].reply.accepted


def test_retries_stop_at_the_total_time_budget(
    receiver: SlackReceiver, webhook: Webhook, sleeps: Sleeps
) -> None:
    receiver.script(*[server_error()] * 5)
    ticks = iter([0.0, 0.0, 0.0, 9.0])
    client = SlackWebhookClient(
        RetryPolicy(max_attempts=5, timeout_seconds=5, max_total_seconds=12),
        sleep=sleeps,
        random_fraction=lambda: 0.0,
        clock=lambda: next(ticks, 9.0),
    )

    with pytest.raises(DeliveryError, match="after 2 attempt"):
        client.post(webhook, PAYLOAD)


@pytest.mark.parametrize(
    "reply",
    [
        invalid_payload(),
        no_service(),
        channel_is_archived(),
        Reply(403, "action_prohibited"),
        Reply(404, "channel_not_found"),
    ],
    ids=lambda reply: reply.body,
)
def test_a_client_error_fails_at_once_with_slacks_error_and_the_webhook_name(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient, sleeps: Sleeps, reply: Reply
) -> None:
    # Given Slack refuses the post for a reason retrying cannot fix
    receiver.script(reply)

    # When posting
    with pytest.raises(DeliveryError) as raised:
        client.post(webhook, PAYLOAD)

    # Then there was exactly one attempt, and the error says which webhook and why
    assert len(receiver.requests) == 1
    assert sleeps.delays == []
    assert str(raised.value) == f"Slack webhook 'ops' rejected the message: HTTP {reply.status} {reply.body}"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, f"The requested URL {PATH} was not found"),
        server_error(),
        Reply(302, "", {"Location": "/x"}),
    ],
    ids=["echoing-body", "5xx", "redirect"],
)
def test_the_url_never_appears_in_the_exception_or_its_chain(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient, reply: Reply
) -> None:
    receiver.script(*[reply] * 3)

    with pytest.raises(DeliveryError) as raised:
        client.post(webhook, PAYLOAD)

    error: BaseException | None = raised.value
    while error is not None:
        assert "SECRET" not in str(error)
        assert "SECRET" not in repr(error)
        error = error.__cause__ or error.__context__
    assert "ops" in str(raised.value)


def test_a_refused_connection_is_retried_then_reported_without_the_url(sleeps: Sleeps) -> None:
    # Given a webhook whose server has gone away
    with SlackReceiver() as gone:
        url = gone.url(PATH)

    with pytest.raises(DeliveryError, match="failed after 3 attempt") as raised:
        SlackWebhookClient(sleep=sleeps, clock=sleeps.clock).post(webhook_at(url), PAYLOAD)

    assert "SECRET" not in str(raised.value)
    assert len(sleeps.delays) == 2


def test_a_redirect_is_not_followed(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient
) -> None:
    receiver.script(Reply(301, "", {"Location": receiver.url("/elsewhere")}))

    with pytest.raises(DeliveryError, match="HTTP 301"):
        client.post(webhook, PAYLOAD)

    assert [r.path for r in receiver.requests] == [PATH]


def test_a_request_that_cannot_be_sent_fails_at_once_without_the_url(
    receiver: SlackReceiver, client: SlackWebhookClient
) -> None:
    # Given a webhook whose URL carries a character the HTTP client cannot encode (one that got past
    # validation, e.g. built by hand)
    webhook = Webhook(name="ops", url=SecretStr(receiver.url(PATH) + "\u200b"))

    # When posting, Then it is that webhook's DeliveryError, with no URL and no retry
    with pytest.raises(DeliveryError, match=r"'ops' rejected the message: .*UnicodeEncodeError") as raised:
        client.post(webhook, PAYLOAD)

    assert "SECRET" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert receiver.requests == []


# ---------------------------------------------------------------- pacing


def test_posts_to_one_webhook_are_spaced_a_second_apart(
    receiver: SlackReceiver, client: SlackWebhookClient, sleeps: Sleeps
) -> None:
    ops, alerts = webhook_at(receiver.url(PATH)), webhook_at(receiver.url("/services/alerts"), "alerts")

    client.post(ops, PAYLOAD)
    client.post(alerts, PAYLOAD)
    client.post(ops, PAYLOAD)

    # Then the second post to ops waited out its second; alerts, a different webhook, did not wait
    assert sleeps.delays == [1.0]


def test_a_burst_to_one_rate_limited_webhook_is_paced_and_never_refused(sleeps: Sleeps) -> None:
    # Given a receiver that refuses a second message within a second, on the controlled clock
    with SlackReceiver(min_interval_seconds=1.0, clock=sleeps.clock) as receiver:
        client = SlackWebhookClient(sleep=sleeps, clock=sleeps.clock)
        webhook = webhook_at(receiver.url(PATH))

        # When 20 messages are posted back to back
        for _ in range(20):
            client.post(webhook, PAYLOAD)

    # Then each was taken at the first attempt, one a second
    assert [r.reply.status for r in receiver.requests] == [200] * 20
    assert sleeps.delays == [1.0] * 19


def test_the_worst_case_covers_the_pace_and_every_attempt() -> None:
    policy = RetryPolicy()

    # a pace wait of up to a capped Retry-After, then connect and read timeouts of one attempt; or
    # retries up to the total budget, the last one started a timeout before it ends
    assert policy.worst_case_seconds == max(5.0 + 2 * 4.0, 12.0 + 4.0) == 16.0


# ---------------------------------------------------------------- the stand-in itself


def test_the_receiver_refuses_a_second_message_within_its_interval_with_retry_after(sleeps: Sleeps) -> None:
    client = SlackWebhookClient(RetryPolicy(max_attempts=1, min_interval_seconds=0), sleep=sleeps)
    with SlackReceiver(min_interval_seconds=1.0, clock=sleeps.clock) as receiver:
        webhook = webhook_at(receiver.url(PATH))
        client.post(webhook, PAYLOAD)
        with pytest.raises(DeliveryError, match="HTTP 429"):
            client.post(webhook, PAYLOAD)
        sleeps(1.0)
        client.post(webhook, PAYLOAD)

    assert [r.reply.status for r in receiver.requests] == [200, 429, 200]
    assert receiver.requests[1].reply.headers == {"Retry-After": "1"}


def test_the_receiver_calls_back_for_each_accepted_message(client: SlackWebhookClient) -> None:
    seen: list[tuple[str, object]] = []
    with SlackReceiver(on_message=lambda path, payload: seen.append((path, payload))) as receiver:
        receiver.script(invalid_payload())
        webhook = webhook_at(receiver.url("/services/demo"))

        with pytest.raises(DeliveryError):
            client.post(webhook, PAYLOAD)
        client.post(webhook, PAYLOAD)

    assert seen == [("/services/demo", PAYLOAD)]


def test_a_received_message_reads_as_plain_text_in_a_terminal() -> None:
    payload = render(
        Notification(
            deployment_kind="greengrass-v1-bulk",
            transition_id="t-1",
            deployment_id="bd-1",
            deployment_arn=None,
            region="eu-west-1",
            previous_status="Running",
            status="Failed",
            terminal=True,
            changes=("status",),
            metrics=Metrics({"recordsProcessed": 3, "invalidInputRecords": 1, "retryAttempts": 0}),
            error_message="role <arn> & more",
            error_details=(ErrorDetail(code="InvalidInput", message="bad"),),
            created_at=None,
            observed_at="2026-11-28T12:00:00Z",
            tags={"env": "prod"},
        )
    )

    text = render_for_terminal(payload)

    assert text.splitlines()[0] == "❌ Failed · bd-1"
    assert "Running → Failed" in text
    assert "Records processed: 3" in text
    assert "role <arn> & more" in text
    assert "• InvalidInput bad" in text
    assert "`" not in text
    assert "*" not in text
