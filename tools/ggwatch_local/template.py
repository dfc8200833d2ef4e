"""Read template.yaml, the single source of truth for ggwatch's resources.

Tests and the local stack build their DynamoDB table from the template's own definition, so a
key, index or TTL change in the template cannot drift away from what the code is tested against.
`Resolver` resolves the template's intrinsic functions for one imagined stack, so tests can check
what a deployed stack would get (an IAM statement's ARN, a metrics namespace) rather than its text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
"""The repository's template.yaml (tools/ggwatch_local/template.py -> repository root)."""

DEFAULT_TABLE = "DeploymentsTable"

_SHORT_TAGS = frozenset(
    {
        "And",
        "Base64",
        "Cidr",
        "Condition",
        "Equals",
        "FindInMap",
        "GetAtt",
        "GetAZs",
        "If",
        "ImportValue",
        "Join",
        "Length",
        "Not",
        "Or",
        "Ref",
        "Select",
        "Split",
        "Sub",
        "ToJsonString",
        "Transform",
    }
)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_INTRINSIC_KEYS = frozenset({"Ref", "Condition"})


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation's short tags as their long forms.

    `!Ref X` becomes `{"Ref": "X"}`, `!GetAtt A.B` becomes `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s`
    becomes `{"Fn::Sub": "s"}` and so on. Dates stay strings (`AWSTemplateFormatVersion:
    2010-09-09` is not a `datetime.date`), as CloudFormation reads them.
    """


def _construct_short_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if tag_suffix not in _SHORT_TAGS:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown CloudFormation tag !{tag_suffix}", node.start_mark
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - PyYAML has no other node kinds
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node!r}", node.start_mark)
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    key = tag_suffix if tag_suffix in _INTRINSIC_KEYS else f"Fn::{tag_suffix}"
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)
CloudFormationLoader.yaml_implicit_resolvers = {
    first_char: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first_char, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_template(path: str | Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, short tags expanded to their long forms."""
    with Path(path).open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ValueError(f"{path} is not a CloudFormation template (no Resources mapping)")
    return template


def resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """One resource by logical id; KeyError names the id when it is missing."""
    found = template["Resources"].get(logical_id)
    if not isinstance(found, dict):
        raise KeyError(f"template has no resource {logical_id!r}")
    return found


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Every resource of one type, by logical id, in template order."""
    return {
        logical_id: body
        for logical_id, body in template["Resources"].items()
        if isinstance(body, dict) and body.get("Type") == resource_type
    }


def function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A serverless function's properties with `Globals.Function` applied as SAM applies them.

    Maps merge key by key (the function wins), lists are concatenated (globals first) and any
    other value, including an intrinsic function, is replaced by the function's own.
    """
    body = resource(template, logical_id)
    if body.get("Type") != "AWS::Serverless::Function":
        raise ValueError(f"{logical_id} is a {body.get('Type')}, not an AWS::Serverless::Function")
    globals_ = template.get("Globals", {}).get("Function", {})
    merged = _merge_globals(globals_, body.get("Properties", {}))
    assert isinstance(merged, dict)
    return merged


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if _is_intrinsic(global_value) or _is_intrinsic(local_value):
            return local_value
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return [*global_value, *local_value]
    return local_value


def _is_intrinsic(value: dict[str, Any]) -> bool:
    if len(value) != 1:
        return False
    key = next(iter(value))
    return key in _INTRINSIC_KEYS or key.startswith("Fn::")


def dynamodb_table_definition(template: dict[str, Any], logical_id: str = DEFAULT_TABLE) -> dict[str, Any]:
    """Keyword arguments for boto3 `create_table` (all but TableName) from an AWS::DynamoDB::Table.

    Only what shapes the data is copied: attributes, keys, secondary indexes and billing mode.
    Encryption and point-in-time recovery are deployment concerns that local stacks and moto ignore;
    TTL is a separate call (see `ttl_attribute`).
    """
    body = resource(template, logical_id)
    if body.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"{logical_id} is a {body.get('Type')}, not an AWS::DynamoDB::Table")
    properties = body.get("Properties", {})
    definition: dict[str, Any] = {
        "AttributeDefinitions": _literal(properties["AttributeDefinitions"], "AttributeDefinitions"),
        "KeySchema": _literal(properties["KeySchema"], "KeySchema"),
        "BillingMode": _literal(properties.get("BillingMode", "PROVISIONED"), "BillingMode"),
    }
    if "ProvisionedThroughput" in properties:
        definition["ProvisionedThroughput"] = _literal(
            properties["ProvisionedThroughput"], "ProvisionedThroughput"
        )
    for indexes in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if indexes in properties:
            definition[indexes] = [
                {key: _literal(index[key], f"{indexes}.{key}") for key in _INDEX_KEYS if key in index}
                for index in properties[indexes]
            ]
    return definition


_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def ttl_attribute(template: dict[str, Any], logical_id: str = DEFAULT_TABLE) -> str | None:
    """The table's TTL attribute name, or None when TTL is not enabled."""
    specification = resource(template, logical_id).get("Properties", {}).get("TimeToLiveSpecification")
    if not specification or specification.get("Enabled") is not True:
        return None
    name = _literal(specification["AttributeName"], "TimeToLiveSpecification.AttributeName")
    assert isinstance(name, str)
    return name


def sns_topic_logical_ids(template: dict[str, Any]) -> list[str]:
    """Logical ids of the SNS topics the template declares (a local stack creates one of each)."""
    return list(resources_of_type(template, "AWS::SNS::Topic"))


def create_table_from_template(
    client: DynamoDBClient,
    table_name: str,
    template: dict[str, Any] | None = None,
    logical_id: str = DEFAULT_TABLE,
) -> str:
    """Create the template's table under `table_name`, TTL included, and return the name."""
    template = load_template() if template is None else template
    client.create_table(TableName=table_name, **dynamodb_table_definition(template, logical_id))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
    attribute = ttl_attribute(template, logical_id)
    if attribute is not None:
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True}
        )
    return table_name


def _literal(value: Any, where: str) -> Any:
    """The value itself, refusing intrinsic functions: a local table cannot resolve them."""
    if isinstance(value, dict):
        if _is_intrinsic(value):
            raise ValueError(f"{where} uses {next(iter(value))}; only literal values can build a table")
        return {key: _literal(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item, where) for item in value]
    return value


_NO_VALUE = object()
"""What `!Ref AWS::NoValue` resolves to: removed from the mapping or list that holds it."""
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")


@dataclass(frozen=True)
class Resolver:
    """Resolves a template value's intrinsic functions as CloudFormation would for one stack.

    Enough of CloudFormation for tests and the local stack: `Ref` (parameters with their defaults,
    pseudo parameters, and the resources given), `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Split`,
    `Fn::If` and the condition functions. Anything else, or a resource not given, raises ValueError
    naming it.
    """

    template: dict[str, Any]
    stack_name: str
    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)
    """`LogicalId` -> what `Ref` returns; `LogicalId.Attribute` -> what `Fn::GetAtt` returns."""

    def __call__(self, value: Any) -> Any:
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def condition(self, name: str) -> bool:
        """The value of one of the template's Conditions."""
        conditions = self.template.get("Conditions", {})
        if name not in conditions:
            raise ValueError(f"template has no condition {name!r}")
        return bool(self._resolve(conditions[name]))

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self._resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if _is_intrinsic(value):
            ((function, argument),) = value.items()
            return self._intrinsic(function, argument)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _intrinsic(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            return self._ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self._given(f"{logical_id}.{attribute}")
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self._sub(text, {name: self._resolve(v) for name, v in variables.items()})
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(str(item) for item in self._resolve(items))
        if function == "Fn::Split":
            separator, text = argument
            return str(self._resolve(text)).split(separator)
        if function == "Fn::If":
            name, when_true, when_false = argument
            return self._resolve(when_true if self.condition(name) else when_false)
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            left, right = (self._resolve(item) for item in argument)
            return left == right
        if function == "Fn::Not":
            return not self._resolve(argument[0])
        if function == "Fn::And":
            return all(self._resolve(item) for item in argument)
        if function == "Fn::Or":
            return any(self._resolve(item) for item in argument)
        raise ValueError(f"{function} is not resolved here")

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
        }
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        declared = self.template.get("Parameters", {}).get(name)
        if isinstance(declared, dict) and "Default" in declared:
            return declared["Default"]
        return self._given(name)

    def _given(self, name: str) -> Any:
        if name not in self.resources:
            raise ValueError(f"{name} is not known to this resolver; give it in `resources`")
        return self.resources[name]

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            literal, name = match.groups()
            if literal:
                return "${" + name + "}"
            if name in variables:
                return str(variables[name])
            return str(self._resolve({"Fn::GetAtt": name} if "." in name else {"Ref": name}))

        return _SUB_VARIABLE.sub(replace, text)


def stack_variables(template: dict[str, Any], stack_name: str) -> dict[str, str]:
    """The functions' Globals environment variables that follow the stack, resolved for `stack_name`.

    Those given by an intrinsic function of the stack name and parameters (the Powertools metrics
    namespace and service name); literal ones the local runtime reads from the template itself. A
    variable naming a resource would raise ValueError here.
    """
    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    resolve = Resolver(template, stack_name=stack_name)
    return {name: str(resolve(value)) for name, value in variables.items() if isinstance(value, dict)}
