"""The webhook client against the local Slack stand-in: retries that help, none that cannot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
    """A no-op sleep that remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def receiver() -> Iterator[SlackReceiver]:
    with SlackReceiver() as started:
        yield started


@pytest.fixture
def webhook(receiver: SlackReceiver) -> Webhook:
    return parse_webhooks(f'[{{"url": "{receiver.url(PATH)}", "name": "ops"}}]')[0]


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> SlackWebhookClient:
    return SlackWebhookClient(RetryPolicy(timeout_seconds=0.25), sleep=sleeps, random_fraction=lambda: 0.5)


def test_a_post_is_delivered_once_as_json(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient
) -> None:
    client.post(webhook, PAYLOAD)

    assert receiver.messages == [(PATH, PAYLOAD)]


def test_rate_limiting_waits_for_retry_after_then_posts(
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


def test_a_long_retry_after_is_capped(receiver: SlackReceiver, webhook: Webhook, sleeps: Sleeps) -> None:
    receiver.script(rate_limited(retry_after=3600))
    client = SlackWebhookClient(RetryPolicy(max_retry_after_seconds=3, max_total_seconds=60), sleep=sleeps)

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


def test_a_timeout_is_retried(receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient) -> None:
    # Given the first answer comes after the client's 0.25 s timeout
    receiver.script(slow(2.0))

    # When posting
    client.post(webhook, PAYLOAD)

    # Then the client tried again (Slack may have posted both: delivery is at least once)
    assert len(receiver.requests) == 2


def test_retries_stop_at_the_total_time_budget(
    receiver: SlackReceiver, webhook: Webhook, sleeps: Sleeps
) -> None:
    receiver.script(*[server_error()] * 5)
    ticks = iter([0.0, 0.0, 9.0])
    client = SlackWebhookClient(
        RetryPolicy(max_attempts=5, timeout_seconds=5, max_total_seconds=12),
        sleep=sleeps,
        random_fraction=lambda: 0.0,
        clock=lambda: next(ticks),
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
    (webhook,) = parse_webhooks(url)

    with pytest.raises(DeliveryError, match="failed after 3 attempt") as raised:
        SlackWebhookClient(sleep=sleeps).post(webhook, PAYLOAD)

    assert "SECRET" not in str(raised.value)
    assert len(sleeps.delays) == 2


def test_a_redirect_is_not_followed(
    receiver: SlackReceiver, webhook: Webhook, client: SlackWebhookClient
) -> None:
    receiver.script(Reply(301, "", {"Location": receiver.url("/elsewhere")}))

    with pytest.raises(DeliveryError, match="HTTP 301"):
        client.post(webhook, PAYLOAD)

    assert [r.path for r in receiver.requests] == [PATH]


# ---------------------------------------------------------------- the stand-in itself


def test_the_receiver_calls_back_for_each_accepted_message(client: SlackWebhookClient) -> None:
    seen: list[tuple[str, object]] = []
    with SlackReceiver(on_message=lambda path, payload: seen.append((path, payload))) as receiver:
        receiver.script(invalid_payload())
        (webhook,) = parse_webhooks(receiver.url("/services/demo"))

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
