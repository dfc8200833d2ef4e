"""A faithful fake of the Greengrass V1 bulk-deployment API (moto lacks it), served over loopback HTTP.

Typical use::

    fake = BulkDeploymentFake()
    bd = fake.add(life=lives.fails())
    with GreengrassFakeServer(fake) as server:
        client = boto3.client("greengrass", endpoint_url=server.endpoint_url, region_name="us-east-1")
        fake.advance(bd)
"""

from . import lives
from .lives import Life, LifeChooser, assign_lives, demo_lives, round_robin, seeded_random
from .model import (
    TRUNCATED_BODY,
    WRONGLY_TYPED_BODY,
    Call,
    DeploymentView,
    ErrorDetail,
    Fault,
    GreengrassError,
    Operation,
    Status,
    Step,
)
from .pacing import Pacing
from .regions import Regional
from .server import GreengrassFakeServer
from .state import BulkDeploymentFake

__all__ = [
    "TRUNCATED_BODY",
    "WRONGLY_TYPED_BODY",
    "BulkDeploymentFake",
    "Call",
    "DeploymentView",
    "ErrorDetail",
    "Fault",
    "GreengrassError",
    "GreengrassFakeServer",
    "Life",
    "LifeChooser",
    "Operation",
    "Pacing",
    "Regional",
    "Status",
    "Step",
    "assign_lives",
    "demo_lives",
    "lives",
    "round_robin",
    "seeded_random",
]
