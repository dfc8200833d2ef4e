"""Never miss, never spam, never lie: the checks every fault test ends with.

`check` compares what each channel received with the transitions the lives owe (lives.py), so a fault
that loses or repeats a notification anywhere fails the test that caused it; `assert_honest` compares
the stored state with what was published, so a run cannot claim a notification it never sent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ggwatch.domain.models import DeploymentKind
from ggwatch.slack.v2_words import status_words
from tests.faults.channels import ALERT_STATUSES, ALERTS_PATH, LAMBDA_ATTEMPTS, OPS_PATH, Published, SlackPost
from tests.faults.lives import AnyLife, Transition


@dataclass
class Figures:
    """What one check counted; `line` is what the soak prints."""

    runs: int = 0
    faults: int = 0
    transitions: int = 0
    delivered: int = 0
    ops: int = 0
    alerts: int = 0
    duplicates_dropped: int = 0
    dead_lettered: int = 0
    lost: int = 0
    duplicated: int = 0
    crashes: int = 0
    deadlines: int = 0
    overlaps: int = 0
    slack_attempts: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"soak: runs={self.runs} faults={self.faults} transitions={self.transitions} "
            f"delivered={self.delivered} duplicates_dropped={self.duplicates_dropped} "
            f"dead_lettered={self.dead_lettered} "
            f"lost={self.lost} duplicated={self.duplicated} "
            f"(ops={self.ops} alerts={self.alerts} crashes={self.crashes} deadlines={self.deadlines} "
            f"overlaps={self.overlaps} slack_invocations={self.slack_attempts})"
        )


def assert_honest(published: Iterable[Published], items: Mapping[str, Mapping[str, Any]]) -> None:
    """The stored state never claims a transition was notified when it was not: a stored status
    is the status of the published transition named by lastTransitionId."""
    by_id = {p.transition_id: p for p in published}
    for deployment_id, item in items.items():
        status, last = item.get("status"), item.get("lastTransitionId")
        if status is None and last is None:
            continue
        notice = by_id.get(str(last))
        assert notice is not None and notice.transition == (
            deployment_id,
            notice.body["previousStatus"],
            status,
        ), f"{deployment_id} is stored as {status} (transition {last}) but that was never published"


def check(
    figures: Figures,
    *,
    lives: Iterable[AnyLife],
    published: Sequence[Published],
    posts: Callable[[str], list[SlackPost]],
    dead_letters: Sequence[Mapping[str, Any]],
    copies_allowed: Iterable[str] = (),
    refused_statuses: frozenset[str] = frozenset(),
) -> Figures:
    """Every expected transition exactly once per channel; raise AssertionError listing what is not.

    `figures` comes with the world's own counts and is completed here. `copies_allowed`: deployments
    where a crash after SNS accepted a message was injected, so the automation subscriber may hold
    copies with one transitionId (which consumers drop). `refused_statuses`: what a webhook that Slack
    always refuses wants; each such transition must be in the DLQ exactly once, and a transition in
    the DLQ is accounted for in a channel that does not show it (DLQ + delivered = all)."""
    allowed = set(copies_allowed)
    problems = figures.problems
    expected: Counter[Transition] = Counter(t for life in lives for t in life.expected())
    figures.transitions = sum(expected.values())

    by_id: dict[str, list[Published]] = {}
    for notice in published:
        by_id.setdefault(notice.transition_id, []).append(notice)
    distinct = {transition_id: copies[0] for transition_id, copies in by_id.items()}
    for transition_id, copies in by_id.items():
        if len(copies) == 1:
            continue
        figures.duplicates_dropped += len(copies) - 1
        deployment_id = copies[0].body["deploymentId"]
        if deployment_id not in allowed:
            figures.duplicated += len(copies) - 1
            problems.append(f"automation: {len(copies)} copies of {transition_id} ({deployment_id})")
        if any(copy.body != copies[0].body for copy in copies):
            problems.append(f"automation: copies of {transition_id} differ")
    figures.delivered = len(distinct)
    _compare("automation", expected, Counter(n.transition for n in distinct.values()), figures)
    dead = _check_dead_letters(dead_letters, expected, refused_statuses, figures)
    figures.ops = _check_channel("ops", posts(OPS_PATH), expected, distinct, figures, dead)
    alerts = Counter({t: n for t, n in expected.items() if t[2] in ALERT_STATUSES})
    figures.alerts = _check_channel("alerts", posts(ALERTS_PATH), alerts, distinct, figures, dead)
    if problems:
        raise AssertionError("delivery invariant broken:\n  " + "\n  ".join(problems))
    return figures


def _check_dead_letters(
    dead_letters: Sequence[Mapping[str, Any]],
    expected: Counter[Transition],
    refused_statuses: frozenset[str],
    figures: Figures,
) -> Counter[Transition]:
    """The transitions in the DLQ: exactly the expected ones a refused webhook wanted, once each."""
    dead: Counter[Transition] = Counter()
    seen: set[str] = set()
    for envelope in dead_letters:
        body = json.loads(str(envelope.get("Message")))
        if body["transitionId"] in seen:
            continue  # a re-published copy (same transitionId) that the refusing webhook refused too
        seen.add(body["transitionId"])
        dead[(body["deploymentId"], body["previousStatus"], body["status"])] += 1
    figures.dead_lettered = sum(dead.values())
    refused = Counter({t: n for t, n in expected.items() if t[2] in refused_statuses})
    missing, unexpected = refused - dead, dead - refused
    figures.lost += sum(missing.values()) + sum(unexpected.values())
    if missing:
        figures.problems.append(f"slack: refused but not in the DLQ: {sorted(missing.elements(), key=str)}")
    if unexpected:
        figures.problems.append(
            f"slack: dead-lettered after {LAMBDA_ATTEMPTS} attempts: {sorted(unexpected.elements(), key=str)}"
        )
    return dead & refused


def _check_channel(
    channel: str,
    posts: list[SlackPost],
    expected: Counter[Transition],
    distinct: Mapping[str, Published],
    figures: Figures,
    dead: Counter[Transition],
) -> int:
    """Compare one Slack channel with the expected transitions; return how many posts it shows."""
    got: Counter[Any] = Counter()
    for post in posts:
        published = distinct.get(str(post.transition_id))
        if published is None:
            got[("no such transitionId", post.transition_id, post.header)] += 1
            continue
        if _header_names(published.body) not in post.header:
            figures.problems.append(f"{channel}: message for {post.transition_id} reads {post.header!r}")
        got[published.transition] += 1
    _compare(channel, expected, got, figures, accounted=dead)
    return len(posts)


def _header_names(body: Mapping[str, Any]) -> str:
    """What a Slack header must show of the notification: "Failed · <ID>" for a V1 bulk deployment,
    "<name> · Active" (the status in words) for a Greengrass V2 one."""
    if body["deploymentKind"] == DeploymentKind.GREENGRASS_V2:
        return f"{body['deploymentName'] or body['deploymentId']} · {status_words(body['status'])}"
    return f"{body['status']} · {body['deploymentId']}"


def _compare(
    channel: str,
    want: Counter[Any],
    got: Counter[Any],
    figures: Figures,
    accounted: Counter[Any] | None = None,
) -> None:
    """`accounted`: missing here but in the DLQ, so not lost."""
    lost, extra = want - got - (accounted or Counter()), got - want
    figures.lost += sum(lost.values())
    figures.duplicated += sum(extra.values())
    if lost:
        figures.problems.append(f"{channel}: lost: {sorted(lost.elements(), key=str)}")
    if extra:
        figures.problems.append(f"{channel}: unexpected or duplicated: {sorted(extra.elements(), key=str)}")
