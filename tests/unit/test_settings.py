"""Configuration is validated once and a bad setting is named in the error."""

import subprocess
import sys

import pytest

from ggwatch.settings import ConfigurationError
from ggwatch.settings.poller import PollerSettings
from ggwatch.settings.slack_notifier import SlackNotifierSettings
from ggwatch.settings.tracker import TrackerSettings

TOPIC = "arn:aws:sns:us-east-1:123456789012:ggwatch-notifications"


def test_poller_settings_read_from_the_environment_with_defaults() -> None:
    settings = PollerSettings.from_env({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC})
    assert (settings.TABLE_NAME, settings.TOPIC_ARN, settings.RETENTION_DAYS) == ("t", TOPIC, 30)
    assert (settings.DEVICE_EVENT_DEBOUNCE_SECONDS, settings.SETTLED_POLL_MINUTES) == (10, 0)
    assert settings.PROGRESS_STEP_PERCENT == 0, "progress notifications are opt-in"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TOPIC_ARN": TOPIC}, "TABLE_NAME"),
        ({"TABLE_NAME": "", "TOPIC_ARN": TOPIC}, "TABLE_NAME"),
        ({"TABLE_NAME": "t"}, "TOPIC_ARN"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": "not-an-arn"}, "TOPIC_ARN"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "RETENTION_DAYS": "soon"}, "RETENTION_DAYS"),
        (
            {"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "DEVICE_EVENT_DEBOUNCE_SECONDS": "0"},
            "DEVICE_EVENT_DEBOUNCE",
        ),
        (
            {"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "DEVICE_EVENT_DEBOUNCE_SECONDS": "10s"},
            "DEVICE_EVENT_DEBOUNCE",
        ),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "SETTLED_POLL_MINUTES": "-1"}, "SETTLED_POLL_MINUTES"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "STUCK_V1_STATUS_MINUTES": "-1"}, "STUCK_V1_STATUS_MINUTES"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "STUCK_V2_PROGRESS_MINUTES": "2h"}, "STUCK_V2_PROGRESS"),
        ({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "PROGRESS_STEP_PERCENT": "100"}, "PROGRESS_STEP_PERCENT"),
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


def test_the_retired_safety_margin_is_refused_by_name() -> None:
    environ = {"TABLE_NAME": "t", "TOPIC_ARN": TOPIC}
    assert PollerSettings.from_env(environ).END_OF_RUN_RESERVE_MS == 1_000
    with pytest.raises(ConfigurationError, match="SAFETY_MARGIN_MS is retired"):
        PollerSettings.from_env(environ | {"SAFETY_MARGIN_MS": "25000"})
    with pytest.raises(ConfigurationError, match="END_OF_RUN_RESERVE_MS"):
        PollerSettings.from_env(environ | {"END_OF_RUN_RESERVE_MS": "-1"})


def test_settings_import_no_adapter() -> None:
    # Settings are validated at cold start by every handler; they depend on nothing below them
    code = "import sys, ggwatch.settings; print(sorted(m for m in sys.modules if m.startswith('ggwatch.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ggwatch.adapters" not in loaded.stdout, loaded.stdout


def test_configuration_errors_are_the_packages_own_and_still_importable_from_settings() -> None:
    from ggwatch import exceptions, settings

    assert settings.ConfigurationError is exceptions.ConfigurationError
    assert issubclass(exceptions.ConfigurationError, exceptions.GgwatchError)


def test_poll_regions_are_read_comma_separated_and_default_to_none() -> None:
    base = {"TABLE_NAME": "t", "TOPIC_ARN": TOPIC}
    assert TrackerSettings.from_env(base).POLL_REGIONS == ()
    assert TrackerSettings.from_env(base | {"POLL_REGIONS": ""}).POLL_REGIONS == ()
    spaced = base | {"POLL_REGIONS": "eu-west-1, us-gov-west-1"}
    assert TrackerSettings.from_env(spaced).POLL_REGIONS == ("eu-west-1", "us-gov-west-1")
    assert PollerSettings.from_env(spaced).POLL_REGIONS == ("eu-west-1", "us-gov-west-1")


@pytest.mark.parametrize("settings", [TrackerSettings, PollerSettings])
def test_a_misspelt_poll_region_fails_naming_the_setting(
    settings: type[TrackerSettings | PollerSettings],
) -> None:
    with pytest.raises(ConfigurationError, match=r"POLL_REGIONS\.1: .*not an AWS region"):
        settings.from_env({"TABLE_NAME": "t", "TOPIC_ARN": TOPIC, "POLL_REGIONS": "eu-west-1,Frankfurt"})
