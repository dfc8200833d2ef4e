"""Configuration is validated once and a bad setting is named in the error."""

import pytest

from ggwatch.settings import ConfigurationError, PollerSettings, SlackNotifierSettings, TrackerSettings

TOPIC = "arn:aws:sns:us-east-1:123456789012:ggwatch-notifications"


def test_poller_settings_read_from_the_environment_with_defaults() -> None:
    settings = PollerSettings.from_env({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC})
    assert (settings.TABLE_NAME, settings.TOPIC_ARN, settings.RETENTION_DAYS) == ("t", TOPIC, 30)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TOPIC_ARN": TOPIC}, "TABLE_NAME"),
        ({"TABLE_NAME": "", "TOPIC_ARN": TOPIC}, "TABLE_NAME"),
        ({"TABLE_NAME": "t"}, "TOPIC_ARN"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": "not-an-arn"}, "TOPIC_ARN"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "RETENTION_DAYS": "soon"}, "RETENTION_DAYS"),
    ],
)
def test_bad_poller_settings_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        PollerSettings.from_env(environ)


def test_tracker_and_slack_settings_require_their_variables() -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME"):
        TrackerSettings.from_env({})
    with pytest.raises(ConfigurationError, match="SLACK_WEBHOOKS_SECRET_ARN"):
        SlackNotifierSettings.from_env({"TABLE_NAME": "t"})


def test_safety_margin_must_outlast_the_slowest_possible_status_call() -> None:
    from ggwatch.adapters.sdk_config import WORST_CASE_CALL_SECONDS

    environ = {"TABLE_NAME": "t", "TOPIC_ARN": TOPIC}
    assert PollerSettings.from_env(environ).SAFETY_MARGIN_MS > WORST_CASE_CALL_SECONDS * 1000
    with pytest.raises(ConfigurationError, match="SAFETY_MARGIN_MS"):
        PollerSettings.from_env(environ | {"SAFETY_MARGIN_MS": str(WORST_CASE_CALL_SECONDS * 1000)})


def test_configuration_errors_are_the_packages_own_and_still_importable_from_settings() -> None:
    from ggwatch import exceptions, settings

    assert settings.ConfigurationError is exceptions.ConfigurationError
    assert issubclass(exceptions.ConfigurationError, exceptions.GgwatchError)
