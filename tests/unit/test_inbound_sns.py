"""SNS records are parsed one by one: only `Sns.Message` is required, and a bad record costs only itself."""

from __future__ import annotations

from typing import Any

from ggwatch.inbound.sns import notifications
from tests.factories import notification


def test_a_record_with_only_the_fields_read_is_parsed() -> None:
    # Lambda's envelope also carries signature and unsubscribe fields; none of them is needed here
    event = {"Records": [{"Sns": {"Message": notification().to_json()}}]}
    assert list(notifications(event)) == [notification()]


def test_each_bad_record_is_skipped_alone() -> None:
    good = {"Sns": {"Message": notification(deployment_id="bd-2").to_json()}}
    records: list[Any] = ["text", {"Sns": {}}, {"Sns": {"Message": "{"}}, good]
    assert list(notifications({"Records": records})) == [None, None, None, notification(deployment_id="bd-2")]
