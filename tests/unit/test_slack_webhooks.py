"""Reading the webhooks secret: one URL or a list with filters; the URLs never show anywhere."""

import json

import pytest

from ggwatch.settings import ConfigurationError
from ggwatch.slack.webhooks import Webhook, parse_webhooks

URL = "https://hooks.slack.com/services/T0SECRET/B0SECRET/xoxSECRETtoken"
TOKEN = "xoxSECRETtoken"


def test_a_plain_url_is_one_webhook_for_every_status() -> None:
    # Given the secret is just a URL (with stray whitespace from a console paste)
    (webhook,) = parse_webhooks(f"  {URL}\n")

    # Then it is one webhook named without revealing the URL, accepting everything
    assert webhook.name == "webhook-1"
    assert webhook.url.get_secret_value() == URL
    assert webhook.statuses is None
    assert webhook.accepts("Completed")
    assert webhook.accepts("SomeFutureStatus")


def test_a_json_list_gives_named_webhooks_with_status_filters() -> None:
    secret = json.dumps(
        [
            {"url": URL, "name": "ops", "statuses": ["Failed", "TrackingFailed"]},
            {"url": "https://hooks.slack.com/triggers/E0/1/abc"},
        ]
    )

    ops, second = parse_webhooks(secret)

    assert (ops.name, second.name) == ("ops", "webhook-2")
    assert ops.accepts("Failed")
    assert ops.accepts("TrackingFailed")
    assert not ops.accepts("Running")
    assert second.accepts("Running")


def test_status_filters_ignore_case() -> None:
    (webhook,) = parse_webhooks(json.dumps([{"url": URL, "statuses": ["completed"]}]))

    assert webhook.accepts("Completed")


def test_workflow_trigger_urls_are_accepted() -> None:
    (webhook,) = parse_webhooks("https://hooks.slack.com/triggers/T0/123/abcdef")

    assert webhook.url.get_secret_value().endswith("/abcdef")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/services/x", "http://localhost/services/x"])
def test_plain_http_is_allowed_only_on_loopback_for_local_testing(url: str) -> None:
    assert parse_webhooks(url)[0].url.get_secret_value() == url


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"http://hooks.slack.com/services/{TOKEN}", "https://"),
        (f"ftp://hooks.slack.com/{TOKEN}", "https://"),
        (f"hooks.slack.com/services/{TOKEN}", "https://"),
        (f"https:///services/{TOKEN}", "no host"),
        (f"https://hooks.slack.com/services/{TOKEN} extra", "whitespace"),
        (f'[{{"url": "{URL}"', "not valid JSON"),
        (f'{{"url": "{URL}"}}', "wrap the object in [ ]"),
        ("[]", "non-empty JSON list"),
        ('"just a string"', "URL or a non-empty JSON list"),
        (f'["{URL}"]', "must be an object"),
        ('[{"name": "ops"}]', "url is missing"),
        (f'[{{"url": "{URL}", "name": "has space"}}]', "name must be"),
        (f'[{{"url": "{URL}", "name": "a#b"}}]', "name must be"),
        (f'[{{"url": "{URL}", "statuses": "Failed"}}]', "statuses must be a list"),
        (f'[{{"url": "{URL}", "statuses": []}}]', "statuses is empty"),
        (f'[{{"url": "{URL}", "statuses": [""]}}]', "statuses must be a list"),
        (f'[{{"url": "{URL}", "chanel": "#ops"}}]', "keys other than"),
        (f'[{{"{URL}": "oops"}}]', "keys other than"),
        (f'[{{"url": "{URL}", "name": "a"}}, {{"url": "{URL}", "name": "a"}}]', "unique"),
    ],
    ids=lambda value: None if value.startswith(("[", "{", "h", "f", '"')) else value,
)
def test_invalid_configuration_says_what_is_wrong_without_echoing_the_secret(
    secret: str, problem: str
) -> None:
    # When an invalid secret value is parsed
    with pytest.raises(ConfigurationError) as raised:
        parse_webhooks(secret)

    # Then the error names the problem, and neither it nor its cause carries the URL or token
    message = str(raised.value)
    assert problem in message
    assert TOKEN not in message
    assert "hooks.slack.com" not in message
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_errors_name_the_webhook_by_position_and_name() -> None:
    secret = json.dumps([{"url": URL}, {"url": "http://hooks.slack.com/x", "name": "ops"}])

    with pytest.raises(ConfigurationError, match=r"^webhook 2 \(ops\): url must be an https:// URL"):
        parse_webhooks(secret)


def test_the_url_never_appears_in_repr_str_or_serialisation() -> None:
    (webhook,) = parse_webhooks(json.dumps([{"url": URL, "name": "ops", "statuses": ["Failed"]}]))

    for rendering in (
        repr(webhook),
        str(webhook),
        webhook.model_dump_json(),
        repr(webhook.model_dump()),
        f"{webhook}",
    ):
        assert TOKEN not in rendering
        assert "hooks.slack.com" not in rendering
    assert "ops" in repr(webhook)


def test_webhooks_are_immutable() -> None:
    (webhook,) = parse_webhooks(URL)

    with pytest.raises(ValueError, match="frozen"):
        webhook.name = "other"  # type: ignore[misc]
    assert isinstance(webhook, Webhook)
