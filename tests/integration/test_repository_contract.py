"""One contract for every deployment repository: the DynamoDB adapter on moto and the tests' in-memory
fake pass the same tests, so a service test on the fake says what the Lambda does on DynamoDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from ggwatch.adapters.dynamodb import DynamoDeploymentRepository
from ggwatch.domain.models import DeploymentKind, ErrorDetail, Metrics, Observation, Pace, PendingTransition
from ggwatch.exceptions import ConflictError
from ggwatch.ports import DeploymentRepository
from tests.conftest import REGION
from tests.fakes import InMemoryRepository

KIND = DeploymentKind.GREENGRASS_V1_BULK
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ARN = "arn:aws:greengrass:us-east-1:123456789012:/greengrass/bulk/deployments/bd-1"


@dataclass
class Subject:
    """A repository, and how to read what the port does not show: when the item expires (TTL)."""

    repository: DeploymentRepository
    expiry: Callable[[str], int | None]


def in_memory() -> Iterator[Subject]:
    repository = InMemoryRepository()
    yield Subject(
        repository, lambda deployment_id: repository.expiries.get(repository.key(KIND, deployment_id))
    )


def dynamodb() -> Iterator[Subject]:
    from ggwatch_local.template import create_table_from_template

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        table = create_table_from_template(client, "ggwatch-contract-table")

        def expiry(deployment_id: str) -> int | None:
            key = {"pk": {"S": f"DEPLOYMENT#{KIND.value}#{deployment_id}"}}
            expires = client.get_item(TableName=table, Key=key)["Item"].get("expiresAt")
            return int(expires["N"]) if expires else None

        yield Subject(DynamoDeploymentRepository(table, client=client), expiry)


SUBJECTS = {"in-memory": in_memory, "dynamodb": dynamodb}


@pytest.fixture(params=list(SUBJECTS))
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    yield from SUBJECTS[request.param]()


def observation(status: str, **fields: object) -> Observation:
    return Observation.model_validate({"kind": KIND, "deployment_id": "bd-1", "status": status, **fields})


def pending(transition_id: str = "t1", status: str = "Running") -> PendingTransition:
    return PendingTransition(
        transition_id=transition_id, message="{}", observation=observation(status), claimed_at=NOW
    )


def tracked(subject: Subject, deployment_id: str = "bd-1") -> DeploymentRepository:
    subject.repository.track(KIND, deployment_id, tracked_by="manual", now=NOW)
    return subject.repository


def test_track_is_idempotent_and_keeps_what_it_was_first_given(subject: Subject) -> None:
    repository = subject.repository
    assert repository.track(KIND, "bd-1", tracked_by="cloudtrail", now=NOW, deployment_arn=ARN)
    assert not repository.track(KIND, "bd-1", tracked_by="manual", now=NOW, deployment_arn="arn:other")
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    assert (stored.version, stored.tracked_by, stored.deployment_arn, stored.active, stored.status) == (
        1,
        "cloudtrail",
        ARN,
        True,
        None,
    )
    assert [item.key for item in repository.active(KIND)] == [f"DEPLOYMENT#{KIND.value}#bd-1"]


def test_track_records_the_region_the_deployment_lives_in(subject: Subject) -> None:
    repository = subject.repository
    assert repository.track(KIND, "bd-eu", tracked_by="cloudtrail", now=NOW, region="eu-west-1")
    assert repository.track(KIND, "bd-home", tracked_by="manual", now=NOW)
    eu, home = repository.get(KIND, "bd-eu"), repository.get(KIND, "bd-home")
    assert eu is not None and home is not None
    assert (eu.region, home.region) == ("eu-west-1", None)
    # each in its region's own partition of the active index: a run reads its region's only
    assert [item.key for item in repository.active(KIND)] == [f"DEPLOYMENT#{KIND.value}#bd-home"]
    assert [item.key for item in repository.active(KIND, region="eu-west-1")] == [
        f"DEPLOYMENT#{KIND.value}#bd-eu"
    ]
    assert list(repository.active(KIND, region="us-west-2")) == []


def test_track_keeps_the_status_discover_saw_apart_from_the_polled_status(subject: Subject) -> None:
    repository = subject.repository
    assert repository.track(KIND, "bd-1", tracked_by="discover", now=NOW, discovered_status="Running")
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    assert (stored.discovered_status, stored.status) == ("Running", None)


def test_untrack_stops_polling_and_sets_the_expiry(subject: Subject) -> None:
    repository = tracked(subject)
    assert repository.untrack(KIND, "bd-1", now=NOW, expires_at=1_900_000_000)
    assert not repository.untrack(KIND, "bd-1", now=NOW, expires_at=1)
    assert not repository.untrack(KIND, "bd-unknown", now=NOW, expires_at=1)
    assert list(repository.active(KIND)) == []
    stored = repository.get(KIND, "bd-1")
    assert stored is not None and not stored.active and stored.version == 2
    assert subject.expiry("bd-1") == 1_900_000_000


def test_an_untracked_deployment_is_tracked_again_but_a_finished_one_is_not_revived(subject: Subject) -> None:
    repository = tracked(subject)
    repository.untrack(KIND, "bd-1", now=NOW, expires_at=1_900_000_000)

    assert repository.track(KIND, "bd-1", tracked_by="cloudtrail", now=NOW, deployment_arn=ARN)

    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    assert (stored.active, stored.version, stored.tracked_by, stored.deployment_arn) == (
        True,
        3,
        "manual",
        ARN,
    )
    assert subject.expiry("bd-1") is None
    assert [item.key for item in repository.active(KIND)] == [f"DEPLOYMENT#{KIND.value}#bd-1"]
    repository.commit(stored, observation("Completed"), now=NOW, expires_at=1_900_000_000)
    assert not repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    assert not repository.untrack(KIND, "bd-1", now=NOW, expires_at=1)


def test_claim_release_and_commit_conflict_when_the_item_moved_on(subject: Subject) -> None:
    repository = tracked(subject)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None

    claimed = repository.claim(stored, pending())
    with pytest.raises(ConflictError):
        repository.claim(stored, pending())
    with pytest.raises(ConflictError):
        repository.release(stored)
    with pytest.raises(ConflictError):
        repository.commit(stored, observation("Running"), now=NOW, expires_at=None)

    assert claimed == repository.get(KIND, "bd-1")
    assert claimed.pending == pending() and claimed.version == stored.version + 1
    committed = repository.commit(
        claimed, observation("Running"), now=NOW, expires_at=None, transition_id="t1"
    )
    assert committed == repository.get(KIND, "bd-1")
    assert (committed.pending, committed.status, committed.last_transition_id) == (None, "Running", "t1")


def test_release_leaves_the_claim_marked_as_nobodys(subject: Subject) -> None:
    repository = tracked(subject)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    claimed = repository.claim(stored, pending())

    released = repository.release(claimed)

    assert released == repository.get(KIND, "bd-1")
    assert released.pending == pending().model_copy(update={"released": True})
    assert released.version == claimed.version + 1 and released.status is None
    with pytest.raises(ConflictError):
        repository.release(claimed)


def test_a_terminal_commit_leaves_the_active_index_and_sets_the_expiry(subject: Subject) -> None:
    repository = tracked(subject)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None

    running = repository.commit(stored, observation("Running"), now=NOW, expires_at=1_900_000_000)
    assert subject.expiry("bd-1") is None and running.active
    failed = repository.commit(running, observation("Failed"), now=NOW, expires_at=1_900_000_000)

    assert list(repository.active(KIND)) == []
    assert not failed.active and failed == repository.get(KIND, "bd-1")
    assert subject.expiry("bd-1") == 1_900_000_000


def test_commit_keeps_the_arn_it_knows_and_learns_a_new_one(subject: Subject) -> None:
    repository = subject.repository
    repository.track(KIND, "bd-1", tracked_by="manual", now=NOW)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    learned = repository.commit(stored, observation("Running", deployment_arn=ARN), now=NOW, expires_at=None)
    kept = repository.commit(learned, observation("Running"), now=NOW, expires_at=None)
    assert learned.deployment_arn == kept.deployment_arn == ARN


def test_active_lists_the_active_deployments_in_key_order(subject: Subject) -> None:
    repository = subject.repository
    for deployment_id in ("bd-3", "bd-1", "bd-2"):
        repository.track(KIND, deployment_id, tracked_by="manual", now=NOW)
    repository.untrack(KIND, "bd-2", now=NOW, expires_at=1)
    assert [item.key.rsplit("#", 1)[1] for item in repository.active(KIND)] == ["bd-1", "bd-3"]
    assert sorted(item.key.rsplit("#", 1)[1] for item in repository.all()) == ["bd-1", "bd-2", "bd-3"]


def test_active_reads_from_a_key_or_up_to_one(subject: Subject) -> None:
    repository = subject.repository
    for deployment_id in ("bd-1", "bd-2", "bd-3", "bd-4"):
        repository.track(KIND, deployment_id, tracked_by="manual", now=NOW)
    cursor = f"DEPLOYMENT#{KIND.value}#bd-3"

    def read(**bounds: str) -> list[str]:
        return [item.key.rsplit("#", 1)[1] for item in repository.active(KIND, **bounds)]

    assert read(from_key=cursor) == ["bd-3", "bd-4"]
    assert read(before_key=cursor) == ["bd-1", "bd-2"]
    assert read(from_key=f"DEPLOYMENT#{KIND.value}#bd-2", before_key=cursor) == ["bd-2"]


def test_cursor_is_stored_and_cleared(subject: Subject) -> None:
    repository = subject.repository
    assert repository.cursor(KIND) is None
    repository.set_cursor(KIND, "DEPLOYMENT#x")
    assert repository.cursor(KIND) == "DEPLOYMENT#x"
    repository.set_cursor(KIND, None)
    assert repository.cursor(KIND) is None


def test_each_region_run_has_a_cursor_of_its_own(subject: Subject) -> None:
    repository = subject.repository
    repository.set_cursor(KIND, "DEPLOYMENT#home")
    repository.set_cursor(KIND, "DEPLOYMENT#eu", "eu-west-1")
    repository.set_cursor(KIND, "DEPLOYMENT#ap", "ap-southeast-2")
    repository.set_cursor(KIND, None, "ap-southeast-2")
    assert repository.cursor(KIND) == "DEPLOYMENT#home"
    assert repository.cursor(KIND, "eu-west-1") == "DEPLOYMENT#eu"
    assert repository.cursor(KIND, "ap-southeast-2") is None


def test_a_check_is_granted_once_per_window_and_only_for_an_active_deployment(subject: Subject) -> None:
    repository = tracked(subject)
    window = timedelta(seconds=10)
    stored = repository.get(KIND, "bd-1")

    assert repository.request_check(KIND, "bd-1", now=NOW, window=window) == stored
    assert repository.request_check(KIND, "bd-1", now=NOW + timedelta(seconds=9.9), window=window) is None
    assert repository.request_check(KIND, "bd-1", now=NOW + timedelta(seconds=10), window=window) == stored
    assert repository.request_check(KIND, "bd-unknown", now=NOW, window=window) is None
    assert repository.get(KIND, "bd-unknown") is None
    later = NOW + timedelta(minutes=5)
    assert stored is not None
    repository.commit(stored, observation("Completed"), now=later, expires_at=1_900_000_000)
    assert repository.request_check(KIND, "bd-1", now=later, window=window) is None


def test_a_check_request_never_makes_a_claim_or_commit_conflict(subject: Subject) -> None:
    repository = tracked(subject)
    stored = repository.get(KIND, "bd-1")
    assert stored is not None
    repository.request_check(KIND, "bd-1", now=NOW, window=timedelta(seconds=10))
    claimed = repository.claim(stored, pending())
    repository.request_check(KIND, "bd-1", now=NOW + timedelta(seconds=20), window=timedelta(seconds=10))
    committed = repository.commit(claimed, observation("Running"), now=NOW, expires_at=None)
    assert committed == repository.get(KIND, "bd-1") and committed.status == "Running"


texts = st.none() | st.text(max_size=40)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
observations = st.builds(
    observation,
    status=st.sampled_from(["Initializing", "Running", "Completed", "Failed", "Mystery"]),
    metrics=st.dictionaries(
        st.sampled_from(["recordsProcessed", "invalidInputRecords", "retryAttempts"]), st.integers(0, 10**12)
    ).map(Metrics),
    error_message=texts,
    error_details=st.lists(st.builds(ErrorDetail, code=texts, message=texts), max_size=3).map(tuple),
    created_at=texts,
    deployment_arn=st.none() | st.just(ARN),
    tags=st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=3),
    pace=st.none()
    | st.builds(
        Pace,
        phase_since=moments,
        moved_at=moments,
        stuck_since=st.none() | moments,
        stuck_reason=st.none() | st.sampled_from(["status", "progress"]),
        progress_step=st.integers(0, 99),
    ),
)


@given(first=observations, second=observations)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_claim_and_commit_answer_with_exactly_what_a_read_returns(
    subject: Subject, first: Observation, second: Observation
) -> None:
    # Given any deployment (a new one each example), when a transition is claimed and committed twice
    deployment_id = f"bd-{next(_ids)}"
    repository = tracked(subject, deployment_id)
    first, second = (o.model_copy(update={"deployment_id": deployment_id}) for o in (first, second))
    stored = repository.get(KIND, deployment_id)
    assert stored is not None
    for seen in (first, second):
        if not stored.active:
            break
        claim = PendingTransition(transition_id="t", message="{}", observation=seen, claimed_at=NOW)
        stored = repository.claim(stored, claim)
        # Then each write answers with the item as a read returns it, the claim's facts included
        assert stored == repository.get(KIND, deployment_id)
        stored = repository.commit(stored, seen, now=NOW, expires_at=1_900_000_000, transition_id="t")
        assert stored == repository.get(KIND, deployment_id)
        assert (stored.status, stored.metrics, stored.error_details, stored.tags, stored.pace) == (
            seen.status,
            seen.metrics,
            seen.error_details,
            seen.tags,
            seen.pace,
        )


_ids = iter(range(10**9))
