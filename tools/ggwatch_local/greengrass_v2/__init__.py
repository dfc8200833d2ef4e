"""A faithful fake of the Greengrass V2 deployment API and the IoT job API behind it (moto has
neither), served over loopback HTTP from botocore's own service models.

Typical use::

    fleet = FleetFake()
    deployment_id = fleet.add(lives.rollout_with_failures())
    with FleetFakeServer(fleet) as server:
        os.environ["AWS_ENDPOINT_URL_GREENGRASSV2"] = os.environ["AWS_ENDPOINT_URL_IOT"] = server.endpoint_url
        boto3.client("greengrassv2").get_deployment(deploymentId=deployment_id)
        fleet.advance(deployment_id)
"""

from . import faults, lives
from .model import (
    DeploymentStatus,
    DeviceFailure,
    Execution,
    ExecutionStatus,
    ExecutionView,
    FleetDeploymentView,
    FleetLife,
    FleetStep,
    JobStatus,
    Operation,
    Target,
)
from .server import FleetBackend, FleetFakeServer
from .state import FleetFake

__all__ = [
    "DeploymentStatus",
    "DeviceFailure",
    "Execution",
    "ExecutionStatus",
    "ExecutionView",
    "FleetBackend",
    "FleetDeploymentView",
    "FleetFake",
    "FleetFakeServer",
    "FleetLife",
    "FleetStep",
    "JobStatus",
    "Operation",
    "Target",
    "faults",
    "lives",
]
