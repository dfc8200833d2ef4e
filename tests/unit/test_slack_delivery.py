"""SlackDelivery with in-memory ports: each webhook on its own, once, and never past the deadline."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from unittest.mock import MagicMock

import pytest

from ggwatch.adapters.delivery_ledger import DynamoDeliveryLedger
from ggwatch.adapters.slack_webhook import SlackWebhookClient
from ggwatch.exceptions import DeliveryError
from ggwatch.observability import logger, metrics
from ggwatch.services.slack_delivery import SlackDelivery
from ggwatch.settings import ConfigurationError
from ggwatch_local.template import function_properties, load_template
from tests.factories import notification_factory
from tests.slack_fakes import MemoryLedger, RecordingPoster, SecretWebhooks

TOKEN = "xoxSECRETtoken"
notification = notification_factory(transition_id="t-1", status="Failed", previous_status="Running")
PLENTY_MS = 60_000
LAMBDA_FIRST_RETRY_SECONDS = 60
"""Lambda waits a minute before retrying a failed asynchronous invocation."""


def secret(*entries: dict[str, object]) -> str:
    return json.dumps(list(entries), ensure_ascii=False)


def hook(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "url": f"https://hooks.slack.com/services/T0/{name}/{TOKEN}", **extra}


def plenty() -> int:
    return PLENTY_MS


@pytest.fixture
def poster() -> RecordingPoster:
    return RecordingPoster()


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
def delivery(poster: RecordingPoster, ledger: MemoryLedger) -> Callable[..., SlackDelivery]:
    def make(*entries: dict[str, object]) -> SlackDelivery:
        return SlackDelivery(SecretWebhooks(secret(*entries)), poster, ledger)

    return make


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """What the package logger writes during the test, line by line."""
    lines: list[str] = []

    class Collect:
        def write(self, text: str) -> None:
            lines.extend(line for line in text.splitlines() if line)

        def flush(self) -> None:
            return None

    handler = logger.registered_handler
    previous = handler.setStream(Collect())  # type: ignore[attr-defined]
    yield lines
    handler.setStream(previous)  # type: ignore[attr-defined]


def emitted(name: str) -> float:
    values = metrics.metric_set.get(name, {}).get("Value", [])
    return float(sum(values) if isinstance(values, list) else values)


def test_each_webhook_whose_filter_accepts_gets_the_message_once_and_it_is_recorded(
    delivery: Callable[..., SlackDelivery], poster: RecordingPoster, ledger: MemoryLedger
) -> None:
    service = delivery(
        hook("ops"), hook("alerts", statuses=["Failed"]), hook("quiet", statuses=["Completed"])
    )

    report = service.deliver(notification(), plenty)

    assert [name for name, _ in poster.posts] == ["ops", "alerts"]
    assert (report.delivered, report.duplicates, report.filtered_out) == (("ops", "alerts"), (), ("quiet",))
    assert ledger.state("t-1", "ops") == ledger.state("t-1", "alerts") == "delivered"
    assert emitted("SlackMessagesDelivered") == 2


def test_a_webhook_that_already_has_the_message_is_not_posted_again(
    delivery: Callable[..., SlackDelivery], poster: RecordingPoster
) -> None:
    service = delivery(hook("ops"))
    service.deliver(notification(), plenty)

    report = service.deliver(notification(), plenty)

    assert len(poster.posts) == 1
    assert report.duplicates == ("ops",)
    assert emitted("SlackDuplicatesDropped") == 1


def test_an_invalid_entry_is_reported_and_skipped_while_the_others_get_every_message(
    delivery: Callable[..., SlackDelivery], poster: RecordingPoster, log_lines: list[str]
) -> None:
    # Given the second entry's URL ends in a pasted zero-width space
    bad = {"name": "pasted", "url": f"https://hooks.slack.com/services/T0/B0/{TOKEN}\u200b"}
    service = delivery(hook("ops"), bad, hook("alerts"))

    # When a notification is delivered
    report = service.deliver(notification(), plenty)

    # Then the valid webhooks got it, and the bad entry was logged by position and name, without its URL
    assert report.delivered == ("ops", "alerts")
    errors = [json.loads(line) for line in log_lines if "invalid slack webhook skipped" in line]
    assert [(e["webhook_position"], e["webhook"]) for e in errors] == [(2, "pasted")]
    assert "non-ASCII" in errors[0]["problem"]
    assert all(TOKEN not in line and "hooks.slack.com" not in line for line in log_lines)
    assert emitted("SlackWebhooksInvalid") == 1


def test_with_no_valid_webhook_left_the_delivery_fails_and_nothing_is_posted(
    delivery: Callable[..., SlackDelivery], poster: RecordingPoster
) -> None:
    service = delivery({"name": "plain", "url": f"http://hooks.slack.com/services/{TOKEN}"})

    with pytest.raises(ConfigurationError, match=r"no valid Slack webhook.*webhook 1 \(plain\)") as raised:
        service.deliver(notification(), plenty)

    assert TOKEN not in str(raised.value)
    assert poster.attempts == []
    assert emitted("SlackWebhooksInvalid") == 1


@pytest.mark.parametrize(
    "error",
    [
        UnicodeEncodeError("ascii", f"/services/{TOKEN}\u200b", 30, 31, "ordinal not in range(128)"),
        ValueError(f"unknown url type: https://hooks.slack.com/services/{TOKEN}"),
        RuntimeError("anything at all"),
        DeliveryError("Slack webhook 'ops' rejected the message: HTTP 404 no_service"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_any_exception_while_posting_fails_that_webhook_only(
    delivery: Callable[..., SlackDelivery],
    poster: RecordingPoster,
    ledger: MemoryLedger,
    log_lines: list[str],
    error: Exception,
) -> None:
    # Given posting to ops raises
    poster.failures["ops"] = error
    service = delivery(hook("ops"), hook("alerts"))

    # When a notification is delivered
    with pytest.raises(DeliveryError, match=r"1 of 2 Slack webhook\(s\) not delivered .*: ops$") as raised:
        service.deliver(notification(), plenty)

    # Then alerts still got it, ops's claim was released for the retry, and no URL was logged
    assert [name for name, _ in poster.posts] == ["alerts"]
    assert ledger.state("t-1", "ops") is None
    assert ledger.state("t-1", "alerts") == "delivered"
    failures = [json.loads(line) for line in log_lines if "slack delivery failed" in line]
    assert [f["webhook"] for f in failures] == ["ops"]
    for text in (*log_lines, str(raised.value)):
        assert TOKEN not in text
    assert emitted("SlackDeliveryFailures") == 1


def test_a_live_claim_of_another_invocation_fails_the_delivery_instead_of_counting_as_sent(
    delivery: Callable[..., SlackDelivery], poster: RecordingPoster, ledger: MemoryLedger
) -> None:
    # Given another invocation claimed ops for this transition and has not finished (or was killed)
    ledger.begin("t-1", "ops", lease_seconds=30)
    service = delivery(hook("ops"), hook("alerts"))

    # When this invocation delivers the same notification
    with pytest.raises(DeliveryError, match=r"not delivered .*: ops$"):
        service.deliver(notification(), plenty)

    # Then it posted to alerts only and left the claim alone, so Lambda retries it later
    assert [name for name, _ in poster.posts] == ["alerts"]
    assert ledger.state("t-1", "ops") == "sending"
    assert emitted("SlackDeliveriesInFlight") == 1
    assert emitted("SlackDuplicatesDropped") == 0

    # And once the claim's lease has passed, the retry posts it
    ledger.now += 31
    assert service.deliver(notification(), plenty).delivered == ("ops",)
    assert [name for name, _ in poster.posts] == ["alerts", "ops"]


def test_a_webhook_is_started_only_with_time_left_for_its_worst_case(
    delivery: Callable[..., SlackDelivery], poster: RecordingPoster, ledger: MemoryLedger
) -> None:
    # Given one webhook's worst case is two ledger calls and a post: 2 * 1 s + 10 s
    service = delivery(hook("ops"), hook("alerts"), hook("audit"))
    assert service.webhook_worst_case_seconds == 12.0
    # and the invocation has time for exactly one, then loses 1 ms at every look
    left = iter([12_000, 11_999, 11_998])

    # When a notification is delivered
    with pytest.raises(DeliveryError, match=r"2 of 3 .*: alerts, audit$"):
        service.deliver(notification(), lambda: next(left))

    # Then only the first was started; the others were not even claimed, so the retry posts them
    assert [name for name, _ in poster.posts] == ["ops"]
    assert [call[2] for call in ledger.calls if call[0] == "begin"] == ["ops"]
    assert emitted("SlackWebhooksNotReached") == 2


def test_the_claim_is_leased_for_exactly_one_webhooks_worst_case(
    delivery: Callable[..., SlackDelivery], ledger: MemoryLedger
) -> None:
    delivery(hook("ops")).deliver(notification(), plenty)

    assert ledger.leases == [12.0]


def test_a_delivery_the_ledger_could_not_record_still_counts_as_delivered(
    delivery: Callable[..., SlackDelivery], poster: RecordingPoster, ledger: MemoryLedger
) -> None:
    # Failing now would make Lambda post it a second time
    ledger.fail_marking = True

    report = delivery(hook("ops")).deliver(notification(), plenty)

    assert report.delivered == ("ops",)
    assert len(poster.posts) == 1


def test_one_webhooks_worst_case_fits_the_function_timeout_and_expires_before_lambdas_first_retry() -> None:
    # Given the notifier as deployed: the real client and ledger, and the template's timeout
    service = SlackDelivery(
        SecretWebhooks("https://hooks.slack.com/services/T0/B0/x"),
        SlackWebhookClient(),
        DynamoDeliveryLedger("table", record_days=7, client=MagicMock()),
    )
    timeout = function_properties(load_template(), "SlackNotifierFunction")["Timeout"]

    # Then a run can start at least one webhook, and a killed run's claim (leased for that worst case)
    # has expired when Lambda retries a minute later
    assert service.webhook_worst_case_seconds < timeout
    assert service.webhook_worst_case_seconds < LAMBDA_FIRST_RETRY_SECONDS
