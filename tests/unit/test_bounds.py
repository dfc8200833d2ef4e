"""Whatever texts a source returns, the claimed item fits DynamoDB and the message fits SNS.

The claim holds the previous state and the whole new message at once, so both must be bounded in
bytes: texts capped in characters grew past 400 KB with 4-byte emoji or control characters that JSON
writes as six bytes, and such a deployment then failed on every poll.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ggwatch.adapters.dynamodb_items import (
    deployment_key,
    item_size,
    observation_attributes,
    pending_attribute,
    to_attribute_values,
)
from ggwatch.domain.models import (
    DeploymentKind,
    ErrorDetail,
    Observation,
    PendingTransition,
    TrackedDeployment,
)
from ggwatch.domain.notification import sns_message_size
from ggwatch.domain.sizes import DYNAMODB_ITEM_MAX_BYTES, SNS_MESSAGE_MAX_BYTES
from ggwatch.domain.transitions import bounded, build_notification

KIND = DeploymentKind.GREENGRASS_V1_BULK
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LONGEST_ID = "b" * 128
LONGEST_ARN = "a" * 2048
HOSTILE_CHARACTERS = ["x", "é", "😀", "\x00", '"', "\u2028", "\ud800"]

runs = st.builds(
    lambda char, count: char * count, st.sampled_from(HOSTILE_CHARACTERS), st.integers(0, 40_000)
)
texts = st.lists(runs, max_size=3).map("".join)
"""Long texts of characters whose bytes outnumber them: a few runs, each up to 40,000 characters."""

observations = st.builds(
    lambda status, message, details, tags, created: Observation(
        kind=KIND,
        deployment_id=LONGEST_ID,
        status=status,
        error_message=message,
        error_details=tuple(ErrorDetail(code=c, message=m) for c, m in details),
        tags=tags,
        created_at=created,
    ),
    status=st.sampled_from(["Running", "Failed", "😀" * 64]),
    message=st.none() | texts,
    details=st.lists(st.tuples(st.none() | texts, st.none() | texts), max_size=80),
    tags=st.dictionaries(runs.map(lambda t: t[:128]), runs.map(lambda t: t[:256]), max_size=60),
    created=st.none() | texts,
)

WORST = Observation(
    kind=KIND,
    deployment_id=LONGEST_ID,
    status="Failed",
    error_message="😀" * 10_000,
    error_details=tuple(ErrorDetail(code="\x00" * 300, message="\x00" * 2_000) for _ in range(60)),
    tags={f"{i:03d}" + "😀" * 124: "😀" * 256 for i in range(50)},
    created_at="\x00" * 3_000,
)


def claimed_item(previous: Observation, current: Observation) -> dict[str, Any]:
    """The item while a transition is claimed: the stored previous state plus the pending message and
    the observation it commits."""
    stored = TrackedDeployment.model_validate(
        {
            **previous.model_dump(exclude={"results"}),
            "tracked_at": NOW,
            "version": 7,
            "deployment_arn": LONGEST_ARN,
            "last_transition_id": "t" * 32,
        }
    )
    notification = build_notification(
        stored, current, ("status", "errors"), observed_at=NOW, region="us-east-1"
    )
    pending = PendingTransition(
        transition_id=notification.transition_id,
        message=notification.to_json(),
        observation=current,
        claimed_at=NOW,
    )
    facts = {name: value for name, value in observation_attributes(previous).items() if value is not None}
    return to_attribute_values(
        {
            "pk": deployment_key(KIND, LONGEST_ID),
            "deploymentKind": KIND.value,
            "deploymentId": LONGEST_ID,
            "activeKind": KIND.value,
            "version": 7,
            "trackedAt": NOW.isoformat(),
            "trackedBy": "cloudtrail",
            "deploymentArn": LONGEST_ARN,
            "lastChangedAt": NOW.isoformat(),
            "lastTransitionId": "t" * 32,
            "expiresAt": 2**40,
            **facts,
            "pending": pending_attribute(pending),
        }
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(previous=observations, current=observations)
@example(previous=WORST, current=WORST.model_copy(update={"status": "Stopped"}))
def test_a_claim_of_bounded_observations_fits_dynamodb_and_its_message_fits_sns(
    previous: Observation, current: Observation
) -> None:
    previous, current = bounded(previous), bounded(current)
    item = claimed_item(previous, current)
    assert item_size(item) <= DYNAMODB_ITEM_MAX_BYTES
    message = build_notification(
        TrackedDeployment(kind=KIND, deployment_id=LONGEST_ID, tracked_at=NOW, deployment_arn=LONGEST_ARN),
        current,
        ("status", "errors"),
        observed_at=NOW,
        region="us-east-1",
    )
    assert sns_message_size(message) <= SNS_MESSAGE_MAX_BYTES
    message.to_json().encode("utf-8")  # nothing UTF-8 cannot carry


def test_bounding_is_deterministic_so_an_unchanged_huge_error_is_no_change() -> None:
    assert bounded(WORST) == bounded(WORST)
    assert bounded(bounded(WORST)) == bounded(WORST)
