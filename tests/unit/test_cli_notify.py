"""`ggwatch test-notify`'s message is a valid notification that reads as a test wherever it lands."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ggwatch.domain.notification import Notification
from ggwatch.slack.blocks import render
from ggwatch.slack.webhooks import parse_webhooks
from ggwatch_cli.commands.notify import TEST_EVENT, TEST_KIND, make_test_notification

NOW = datetime(2026, 12, 2, 4, 37, 5, tzinfo=UTC)


def marked(status: str = "Test") -> Notification:
    return make_test_notification(transition_id="t-1", region="eu-west-1", status=status, now=NOW)


def test_it_is_a_schema_version_1_message_the_slack_notifier_reads_back() -> None:
    notification = marked()

    received = Notification.model_validate_json(notification.to_json())

    assert received == notification
    assert json.loads(notification.to_json())["schemaVersion"] == "1"
    assert notification.message_attributes() == {
        "eventType": TEST_EVENT,
        "deploymentKind": TEST_KIND,
        "deploymentId": "ggwatch-test-20261202T043705Z",
        "status": "Test",
    }
    assert notification.observed_at == "2026-12-02T04:37:05Z"


def test_slack_shows_it_as_a_test_in_the_header_the_fallback_and_a_tag() -> None:
    payload = render(marked())
    text = json.dumps(payload, ensure_ascii=False)

    assert payload["blocks"][0]["text"]["text"] == "❔ Test · ggwatch-test-20261202T043705Z"
    assert "ggwatch-test" in payload["text"]
    assert "no deployment changed" in text


def test_a_webhook_filtered_on_status_gets_it_only_with_one_of_its_statuses() -> None:
    (failures_only,) = parse_webhooks(
        '[{"name": "alerts", "url": "https://hooks.slack.com/services/T0/B0/x", "statuses": ["Failed"]}]'
    ).webhooks

    assert not failures_only.accepts(marked().status)
    assert failures_only.accepts(marked("Failed").status)
