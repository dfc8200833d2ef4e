# ruff: noqa: F811  (pytest fixtures imported from test_cli are parameters here)
"""The CLI across regions: `track --region` and `discover --region` record where each deployment lives,
refuse a region the stack does not poll before writing anything, and `list` and `status` name it.

The simulator keeps one set of deployments per region (read from each request's SigV4 scope), so
`discover --region` finds that region's deployments only, through clients built for that region.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ggwatch_local.greengrass import BulkDeploymentFake, GreengrassFakeServer, Step
from ggwatch_local.greengrass_v2 import Execution, FleetFake, FleetFakeServer, FleetLife, FleetStep, Target
from tests.conftest import REGION
from tests.integration.conftest import TopicWithSubscriber
from tests.integration.test_cli import Cli, cli, configured, create_stack, stored  # noqa: F401  (fixtures)

EU = "eu-west-1"
V2 = ["--kind", "greengrass-v2"]


@dataclass
class Regions:
    """Greengrass V1 and V2 in the home region and in eu-west-1, each keeping its own deployments."""

    home_bulk: BulkDeploymentFake
    eu_bulk: BulkDeploymentFake
    home_fleet: FleetFake
    eu_fleet: FleetFake


@pytest.fixture
def regions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Regions]:
    faked = Regions(BulkDeploymentFake(), BulkDeploymentFake(region=EU), FleetFake(), FleetFake(region=EU))
    with (
        GreengrassFakeServer(faked.home_bulk, regions={EU: faked.eu_bulk}) as v1,
        FleetFakeServer(faked.home_fleet, regions={EU: faked.eu_fleet}) as v2,
    ):
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASS", v1.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASSV2", v2.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_IOT", v2.endpoint_url)
        yield faked


@pytest.fixture
def polls_eu(monkeypatch: pytest.MonkeyPatch, configured: str) -> str:
    """A stack in us-east-1 that polls eu-west-1 too (as its PollRegions output would say)."""
    monkeypatch.setenv("GGWATCH_POLL_REGIONS", EU)
    return configured


def active(name: str, group: str) -> FleetLife:
    return FleetLife(
        name,
        Target("thinggroup", group),
        (FleetStep("ACTIVE", "IN_PROGRESS", (Execution("gw-1", "IN_PROGRESS"),)),),
    )


# -- track ----------------------------------------------------------------------------------------
def test_track_records_the_region_given_and_list_shows_it(cli: Cli, polls_eu: str) -> None:
    assert cli("track", "--region", EU, "bd-eu").lines == [f"bd-eu: tracked in {EU}"]
    assert cli("track", "--region", REGION, "bd-home").lines == [f"bd-home: tracked in {REGION}"]
    assert cli("track", "bd-default").lines == ["bd-default: tracked"]

    # The stack's own region is stored as none, however it was named
    assert [stored(polls_eu, i).region for i in ("bd-eu", "bd-home", "bd-default")] == [EU, None, None]
    listed = {d["deploymentId"]: d["region"] for d in cli("list", "--json").json()}
    assert listed == {"bd-eu": EU, "bd-home": REGION, "bd-default": REGION}
    table = {line.split()[0]: line.split()[-1] for line in cli("list").lines[1:]}
    assert table == {"bd-eu": EU, "bd-home": REGION, "bd-default": REGION}


def test_tracking_again_in_another_region_says_where_it_is_tracked(cli: Cli, polls_eu: str) -> None:
    cli("track", "--region", EU, "bd-1")
    assert cli("track", "bd-1").lines == [f"bd-1: already tracked in {EU}"]
    assert cli("track", "--region", EU, "bd-1").lines == ["bd-1: already tracked"]


def test_a_region_the_stack_does_not_poll_is_refused_before_anything_is_written(
    cli: Cli,
    configured: str,
) -> None:
    # Given a stack that polls its own region only (no PollRegions anywhere)
    result = cli("track", "--region", EU, "bd-1", "bd-2")
    result.assert_one_error_line(
        2, f"region {EU} is not polled by this stack (it polls {REGION})", "PollRegions"
    )
    assert stored(configured, "bd-1") is None and stored(configured, "bd-2") is None


def test_a_malformed_region_is_a_usage_error(cli: Cli, polls_eu: str) -> None:
    cli("track", "--region", "Frankfurt", "bd-1").assert_one_error_line(
        2, "invalid --region 'Frankfurt': not an AWS region"
    )
    cli("discover", "--region", "eu-west").assert_one_error_line(2, "invalid --region 'eu-west'")
    assert stored(polls_eu, "bd-1") is None


def test_the_stacks_poll_regions_output_says_which_regions_may_be_tracked(
    cli: Cli, deployments_table: str, topic: TopicWithSubscriber
) -> None:
    create_stack("ggwatch", {"TableName": deployments_table, "PollRegions": f"{REGION},{EU}"})
    assert cli("track", "--stack", "ggwatch", "--region", EU, "bd-1").lines == [f"bd-1: tracked in {EU}"]
    refused = cli("track", "--stack", "ggwatch", "--region", "us-west-2", "bd-2")
    refused.assert_one_error_line(
        2, f"region us-west-2 is not polled by this stack (it polls {REGION}, {EU})"
    )


def test_the_stack_region_option_names_the_stacks_region_apart_from_the_deployments(
    cli: Cli,
    polls_eu: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given no region in the environment: the stack's comes from --stack-region
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert cli("track", "--stack-region", REGION, "--region", EU, "bd-1").lines == [f"bd-1: tracked in {EU}"]
    assert stored(polls_eu, "bd-1").region == EU


# -- discover -------------------------------------------------------------------------------------
def test_discover_with_a_region_finds_that_regions_deployments_and_records_their_region(
    cli: Cli,
    polls_eu: str,
    regions: Regions,
) -> None:
    # Given running deployments of both kinds in each region
    regions.home_bulk.add("bd-home", [Step("Running")])
    regions.eu_bulk.add("bd-eu", [Step("Running")])
    regions.home_fleet.add(active("home", "line-1"), "d-home")
    regions.eu_fleet.add(active("eu", "line-2"), "d-eu")

    # When eu-west-1 is discovered, then only its deployments are tracked, each with its region
    result = cli("discover", "--region", EU)
    assert result.code == 0, result.err
    listed = {d["deploymentId"]: (d["deploymentKind"], d["region"]) for d in cli("list", "--json").json()}
    assert listed == {"bd-eu": ("greengrass-v1-bulk", EU), "d-eu": ("greengrass-v2", EU)}
    eu_v2 = next(d for d in cli("list", "--json").json() if d["deploymentId"] == "d-eu")
    assert eu_v2["deploymentArn"] == f"arn:aws:greengrass:{EU}:{regions.eu_fleet.account}:deployments:d-eu"

    # And without --region, the home region's, stored without a region
    assert cli("discover").code == 0
    assert stored(polls_eu, "bd-home").region is None


def test_discover_in_a_region_not_polled_is_refused_without_a_call_to_greengrass(
    cli: Cli,
    configured: str,
    regions: Regions,
) -> None:
    regions.eu_bulk.add("bd-eu", [Step("Running")])
    cli("discover", "--region", EU).assert_one_error_line(2, f"region {EU} is not polled by this stack")
    assert regions.eu_bulk.calls == [] and stored(configured, "bd-eu") is None


# -- poll -----------------------------------------------------------------------------------------
def test_poll_asks_each_deployment_in_its_own_region(
    cli: Cli,
    polls_eu: str,
    regions: Regions,
    topic: TopicWithSubscriber,
) -> None:
    # Given a deployment in each region, each known only to its own region's Greengrass
    regions.home_bulk.add("bd-home", [Step("Running")])
    regions.eu_bulk.add("bd-eu", [Step("Running")])
    cli("track", "bd-home")
    cli("track", "--region", EU, "bd-eu")

    # When the CLI polls, each is observed where it lives (neither is unknown to its region)
    assert cli("poll").code == 0
    delivered = {m.body["deploymentId"]: (m.body["status"], m.body["region"]) for m in topic.drain()}
    assert delivered == {"bd-home": ("Running", REGION), "bd-eu": ("Running", EU)}


# -- status ---------------------------------------------------------------------------------------
def test_status_asks_greengrass_in_the_region_the_deployment_was_tracked_in(
    cli: Cli,
    polls_eu: str,
    regions: Regions,
) -> None:
    # Given a deployment tracked in eu-west-1, which the home region does not know
    regions.eu_bulk.add("bd-eu", [Step("Running")])
    regions.eu_fleet.add(active("eu", "line-2"), "d-eu")
    cli("track", "--region", EU, "bd-eu")
    cli("track", *V2, "--region", EU, "d-eu")

    # When its status is asked without a region, Greengrass in eu-west-1 answers
    report = cli("status", "bd-eu")
    assert report.code == 0, report.err
    assert report.lines[0] == f"bulk deployment bd-eu in {EU}"
    body = cli("status", *V2, "d-eu", "--json").json()
    assert (body["region"], body["greengrass"]["status"], body["stored"]["region"]) == (EU, "ACTIVE", EU)

    # And an untracked deployment of another region is found with --region
    regions.eu_bulk.add("bd-other", [Step("Running")])
    cli("status", "bd-other").assert_one_error_line(1, f"Greengrass in {REGION} does not know")
    assert cli("status", "--region", EU, "bd-other").code == 0


def test_a_listed_deployment_whose_arn_names_another_region_is_reported_as_such(
    cli: Cli, polls_eu: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Greengrass in eu-west-1 answering with a us-east-1 ARN (what no region should answer)
    with GreengrassFakeServer(BulkDeploymentFake(region=REGION)) as wrong:
        wrong.fake.add("bd-1", [Step("Running")])
        monkeypatch.setenv("AWS_ENDPOINT_URL_GREENGRASS", wrong.endpoint_url)
        result = cli("discover", "--kind", "greengrass-v1-bulk", "--region", EU)
    # Then the failure names the region mismatch, not the (valid) ID, and nothing is tracked
    result.assert_one_error_line(1, "cannot track 'bd-1'", f"names region {REGION}, not {EU}")
    assert stored(polls_eu, "bd-1") is None


def test_untrack_takes_the_deployments_region_as_track_does_and_other_commands_the_stack_region(
    cli: Cli, polls_eu: str
) -> None:
    cli("track", "--region", EU, "bd-1")
    # The same options as track: --region names the deployment's region, the table stays the stack's
    assert cli("untrack", "--region", EU, "bd-1").lines == ["bd-1: untracked"]
    assert not stored(polls_eu, "bd-1").active
    # A command that names no deployment takes the stack's region by either name
    assert cli("list", "--stack-region", REGION, "--json").json()[0]["region"] == EU
    assert cli("list", "--region", REGION, "--json").code == 0
