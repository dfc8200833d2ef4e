"""The CLI's --kind choices are the layer's deployment kinds, spelled out so --help loads no pydantic."""

from ggwatch.domain.models import DeploymentKind
from ggwatch_cli.commands import DEFAULT_KIND, KINDS
from ggwatch_cli.output import KIND_NOUNS


def test_the_kind_choices_are_every_deployment_kind() -> None:
    assert tuple(kind.value for kind in DeploymentKind) == KINDS
    assert DeploymentKind.GREENGRASS_V1_BULK.value == DEFAULT_KIND


def test_every_kind_has_a_name_for_people() -> None:
    assert set(KIND_NOUNS) == set(DeploymentKind)
