"""Where the table and topic come from: a flag, else the environment, else the deployed stack's outputs.

Settings are resolved on first need and only for the commands that need them, then validated by the
settings model of the Lambda that does the same job (TrackerSettings to track and read,
PollerSettings to poll), so the CLI accepts exactly what the functions accept. Every error names the
flag, variables and stack output that would provide the setting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from ggwatch.domain.regions import RegionList
from ggwatch.settings.poller import PollerSettings
from ggwatch.settings.tracker import TrackerSettings
from ggwatch_cli import UsageError, shown

STACK_VARIABLE = "GGWATCH_STACK_NAME"

StackOutputs = Callable[[str], Mapping[str, str]]
"""Reads a deployed stack's outputs by stack name (CloudFormation, or a stand-in in tests)."""

SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


@dataclass(frozen=True)
class Setting:
    """One resource name the CLI needs, and every place it may come from, first match wins."""

    field: str
    """The field of the Lambda settings model that validates it."""
    label: str
    flag: str
    """The command-line option that gives it; empty when none does."""
    variables: tuple[str, ...]
    output: str
    """The template's output that holds it in a deployed stack."""
    rule: str
    """What a valid value looks like, in words (the settings model's own message quotes a regex)."""
    default: str | None = None
    """The value when no flag, variable or stack gives one; None: the setting is required."""


TABLE = Setting(
    "TABLE_NAME",
    "table name",
    "--table",
    ("GGWATCH_TABLE_NAME", "TABLE_NAME"),
    "TableName",
    "a table name cannot be empty",
)
TOPIC = Setting(
    "TOPIC_ARN",
    "topic ARN",
    "--topic-arn",
    ("GGWATCH_TOPIC_ARN", "TOPIC_ARN"),
    "TopicArn",
    "a topic ARN looks like arn:aws:sns:REGION:ACCOUNT:NAME",
)
POLL_REGIONS = Setting(
    "POLL_REGIONS",
    "poll regions",
    "",
    ("GGWATCH_POLL_REGIONS", "POLL_REGIONS"),
    "PollRegions",
    "poll regions are AWS regions separated by commas, like eu-west-1,us-west-2",
    default="",
)
"""The regions the stack polls (its output lists its own region first); none given: the stack's own
region only, as a stack deployed before ggwatch polled other regions has no such output."""
EVENT_BUS = Setting(
    "EVENT_BUS_NAME",
    "event bus name",
    "",
    ("GGWATCH_EVENT_BUS_NAME", "EVENT_BUS_NAME"),
    "EventBusName",
    "an event bus name is 1 to 256 letters, digits and . _ / -",
    default="",
)
"""The bus the poller puts its events on; none given: the topic only, as a stack deployed before
ggwatch put events on a bus has no such output."""


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from, so an error about it can say which source to fix."""

    value: str
    origin: str


class Configuration:
    """Resolves settings lazily: the stack is only described when a flag or variable does not decide."""

    def __init__(
        self,
        flags: Mapping[str, str | None],
        environ: Mapping[str, str],
        stack: str | None,
        stack_outputs: StackOutputs,
    ) -> None:
        """`flags` maps a setting's flag (`--table`) to the value given on the command line, if any."""
        self._flags = flags
        self._environ = environ
        self._stack = stack or environ.get(STACK_VARIABLE) or None
        self._read_outputs = stack_outputs
        self._outputs: Mapping[str, str] | None = None
        self._resolved: dict[str, Resolved] = {}

    def tracker_settings(self) -> TrackerSettings:
        """What tracking, listing, status and discovery need: the table."""
        return self._validated(TrackerSettings, [TABLE])

    def poll_regions(self) -> tuple[str, ...]:
        """The regions the stack polls besides its own, by the tracker's own rule; asked for only by
        the commands that track or untrack (the stack's outputs are read for it only when a stack is
        named)."""
        resolved = self.resolve(POLL_REGIONS)
        try:
            regions: tuple[str, ...] = TypeAdapter(RegionList).validate_python(resolved.value)
        except ValidationError:
            raise UsageError(_invalid(POLL_REGIONS, resolved)) from None
        return regions

    def poller_settings(self) -> PollerSettings:
        """What a polling pass that publishes needs: the table and the topic (and the bus, if any)."""
        return self._validated(PollerSettings, [TABLE, TOPIC, EVENT_BUS])

    def topic_arn(self) -> str:
        """What publishing alone needs (`ggwatch test-notify`): the topic, by the poller's own rule."""
        resolved = self.resolve(TOPIC)
        rule = PollerSettings.model_fields[TOPIC.field]
        try:
            return TypeAdapter(Annotated[str, rule]).validate_python(resolved.value)
        except ValidationError:
            raise UsageError(_invalid(TOPIC, resolved)) from None

    def origin(self, setting: Setting) -> str:
        """Where a resolved setting came from (`--table`, `TABLE_NAME`, `stack 'x' output TableName`)."""
        return self.resolve(setting).origin

    def resolve(self, setting: Setting) -> Resolved:
        if setting.field not in self._resolved:
            self._resolved[setting.field] = self._find(setting)
        return self._resolved[setting.field]

    def _validated(self, model: type[SettingsModel], settings: Sequence[Setting]) -> SettingsModel:
        problems: list[str] = []
        for setting in settings:
            try:
                self.resolve(setting)
            except UsageError as error:
                problems.append(str(error))
        if problems:
            raise UsageError("; ".join(problems))
        values = {setting.field: self._resolved[setting.field] for setting in settings}
        optional = {setting.field for setting in settings if setting.default == ""}
        try:
            # an optional setting given nowhere is left to the model's own default
            given = {
                field: resolved.value
                for field, resolved in values.items()
                if resolved.value or field not in optional
            }
            return model.model_validate(given)
        except ValidationError as error:
            raise UsageError("; ".join(self._describe(e, values) for e in error.errors())) from None

    def _describe(self, error: Mapping[str, object], values: Mapping[str, Resolved]) -> str:
        location = error.get("loc")
        field = str(location[0]) if isinstance(location, tuple) and location else ""
        setting = next((s for s in (TABLE, TOPIC, EVENT_BUS) if s.field == field), None)
        if setting is None or field not in values:
            return f"invalid configuration: {field}: {error.get('msg')}"
        return _invalid(setting, values[field])

    def _find(self, setting: Setting) -> Resolved:
        flag_value = self._flags.get(setting.flag)
        if flag_value is not None:
            return Resolved(flag_value, setting.flag)
        for variable in setting.variables:
            if self._environ.get(variable):
                return Resolved(self._environ[variable], variable)
        sources = f"pass {setting.flag} or set {' or '.join(setting.variables)}"
        if self._stack is None and setting.default is not None:
            return Resolved(setting.default, "the default")
        if self._stack is None:
            raise UsageError(
                f"no {setting.label}: {sources}, or name the deployed stack with --stack "
                f"(or {STACK_VARIABLE}) to read its {setting.output} output"
            )
        if self._outputs is None:
            self._outputs = self._read_outputs(self._stack)
        value = self._outputs.get(setting.output)
        if not value and setting.default is not None:
            return Resolved(
                setting.default, f"the default (stack {shown(self._stack)} has no {setting.output})"
            )
        if not value:
            raise UsageError(
                f"no {setting.label}: stack {shown(self._stack)} has no {setting.output} output; {sources}"
            )
        return Resolved(value, f"output {setting.output} of stack {shown(self._stack)}")


def _invalid(setting: Setting, resolved: Resolved) -> str:
    return f"invalid {setting.label} {shown(resolved.value)} (from {resolved.origin}): {setting.rule}"
