"""Reading the webhooks secret: one URL or a list with filters; a bad entry is skipped, never
fatal to the others; the URLs never show anywhere."""

import json

import pytest

from ggwatch.settings import ConfigurationError
from ggwatch.slack.webhooks import RejectedWebhook, Webhook, WebhookList, parse_webhooks

URL = "https://hooks.slack.com/services/T0SECRET/B0SECRET/xoxSECRETtoken"
TOKEN = "xoxSECRETtoken"


def test_a_plain_url_is_one_webhook_for_every_status() -> None:
    # Given the secret is just a URL (with stray whitespace from a console paste)
    (webhook,) = valid(f"  {URL}\n")

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

    ops, second = valid(secret)

    assert (ops.name, second.name) == ("ops", "webhook-2")
    assert ops.accepts("Failed")
    assert ops.accepts("TrackingFailed")
    assert not ops.accepts("Running")
    assert second.accepts("Running")


def test_status_filters_ignore_case() -> None:
    (webhook,) = valid(json.dumps([{"url": URL, "statuses": ["completed"]}]))

    assert webhook.accepts("Completed")


def test_workflow_trigger_urls_are_accepted() -> None:
    (webhook,) = valid("https://hooks.slack.com/triggers/T0/123/abcdef")

    assert webhook.url.get_secret_value().endswith("/abcdef")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/services/x", "http://localhost/services/x"])
def test_plain_http_is_allowed_only_on_loopback_for_local_testing(url: str) -> None:
    assert valid(url)[0].url.get_secret_value() == url


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f'[{{"url": "{URL}"', "not valid JSON"),
        (f'{{"url": "{URL}"}}', "wrap the object in [ ]"),
        ("[]", "non-empty JSON list"),
        ('"just a string"', "URL or a non-empty JSON list"),
    ],
    ids=lambda value: None if value.startswith(("[", "{", '"')) else value,
)
def test_a_secret_that_is_no_list_of_webhooks_fails_without_echoing_it(secret: str, problem: str) -> None:
    # When a secret value that holds no list of entries at all is parsed
    with pytest.raises(ConfigurationError) as raised:
        parse_webhooks(secret)

    # Then the error names the problem, and neither it nor its cause carries the URL or token
    message = str(raised.value)
    assert problem in message
    assert TOKEN not in message
    assert "hooks.slack.com" not in message
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


ZERO_WIDTH_SPACE = "\u200b"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (f"http://hooks.slack.com/services/{TOKEN}", "https://"),
        (f"ftp://hooks.slack.com/{TOKEN}", "https://"),
        (f"hooks.slack.com/services/{TOKEN}", "https://"),
        (f"https:///services/{TOKEN}", "no host"),
        (f"https://hooks.slack.com/services/{TOKEN} extra", "whitespace"),
        (f"https://hooks.slack.com/services/{TOKEN}{ZERO_WIDTH_SPACE}", "non-ASCII"),
        (f"https://hooks.slack.com/services/{TOKEN}\u00e9", "non-ASCII"),
        (f"https://hooks.slack.com/services/{TOKEN}\x00", "not allowed in a URL"),
        (f'https://hooks.slack.com/services/{TOKEN}"', "not allowed in a URL"),
        (f"https://hooks.slack.com/services/{TOKEN}<", "not allowed in a URL"),
        (f"https://hooks.slack.com:99999/services/{TOKEN}", "not a valid URL"),
        (f"https://hooks.slack.com:port/services/{TOKEN}", "not a valid URL"),
        (f"https://user:pw@hooks.slack.com/services/{TOKEN}", "user name"),
        (f"https://hooks/services/{TOKEN}", "DNS name"),
        (f"https://10.0.0.1/services/{TOKEN}", "DNS name"),
        (f"https://[2001:db8::1]/services/{TOKEN}", "DNS name"),
        (f"https://-hooks.slack.com/services/{TOKEN}", "DNS name"),
        (f"https://hooks_1.slack.com/services/{TOKEN}", "DNS name"),
        (f"https://{'a' * 64}.slack.com/services/{TOKEN}", "DNS name"),
        (f"http://127.0.0.1.evil.example/services/{TOKEN}", "https://"),
        ({"name": "ops"}, "url is missing"),
        ({"url": 42}, "url is missing"),
        ([URL], "must be an object"),
        ({"url": URL, "name": "has space"}, "name must be"),
        ({"url": URL, "name": "a#b"}, "name must be"),
        ({"url": URL, "statuses": "Failed"}, "statuses must be a list"),
        ({"url": URL, "statuses": []}, "statuses is empty"),
        ({"url": URL, "statuses": [""]}, "statuses must be a list"),
        ({"url": URL, "chanel": "#ops"}, "keys other than"),
        ({URL: "oops"}, "keys other than"),
    ],
    ids=lambda value: value if isinstance(value, str) and not value.startswith(("h", "f")) else None,
)
def test_an_invalid_entry_is_skipped_and_reported_while_the_others_stay(entry: object, problem: str) -> None:
    # Given a list with a good webhook, then a bad entry (a string: its URL), then another good one
    bad = {"url": entry, "name": "bad"} if isinstance(entry, str) else entry
    secret = json.dumps(
        [{"url": URL, "name": "first"}, bad, {"url": URL.replace("B0", "B1"), "name": "third"}],
        ensure_ascii=False,
    )

    # When it is parsed
    listed = parse_webhooks(secret)

    # Then both good webhooks are kept, and the bad entry is reported by position, without its URL
    assert [webhook.name for webhook in listed.webhooks] == ["first", "third"]
    (rejected,) = listed.rejected
    assert rejected.position == 2
    assert problem in rejected.problem
    report = f"{rejected} {rejected!r}"
    assert TOKEN not in report
    assert "hooks.slack.com" not in report


def test_a_rejected_entry_is_named_by_position_and_name() -> None:
    secret = json.dumps([{"url": URL}, {"url": "http://hooks.slack.com/x", "name": "ops"}])

    (rejected,) = parse_webhooks(secret).rejected

    assert rejected == RejectedWebhook(
        2, "ops", "url must be an https:// URL (http:// only for 127.0.0.1 or localhost)"
    )
    assert str(rejected).startswith("webhook 2 (ops): url must be")


def test_a_repeated_name_skips_the_later_entry() -> None:
    # Names key the delivery records: two webhooks with one name would suppress each other
    secret = json.dumps([{"url": URL, "name": "a"}, {"url": URL, "name": "a"}, {"url": URL, "name": "b"}])

    listed = parse_webhooks(secret)

    assert [webhook.name for webhook in listed.webhooks] == ["a", "b"]
    assert [(r.position, r.name) for r in listed.rejected] == [(2, "a")]
    assert "unique" in listed.rejected[0].problem


def test_a_single_invalid_url_leaves_no_webhook_and_says_why() -> None:
    listed = parse_webhooks(f"https://hooks.slack.com/services/{TOKEN}{ZERO_WIDTH_SPACE}")

    assert listed.webhooks == ()
    assert "non-ASCII" in str(listed.rejected[0])


def test_the_url_never_appears_in_repr_str_or_serialisation() -> None:
    (webhook,) = valid(json.dumps([{"url": URL, "name": "ops", "statuses": ["Failed"]}]))

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
    (webhook,) = valid(URL)

    with pytest.raises(ValueError, match="frozen"):
        webhook.name = "other"  # type: ignore[misc]
    assert isinstance(webhook, Webhook)


def valid(secret: str) -> tuple[Webhook, ...]:
    """The webhooks of a secret that must have no invalid entry."""
    listed = parse_webhooks(secret)
    assert isinstance(listed, WebhookList)
    assert listed.rejected == ()
    return listed.webhooks
