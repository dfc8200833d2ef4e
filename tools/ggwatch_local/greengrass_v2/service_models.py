"""What the fake knows of the wire comes from botocore's service models, not from hand-written routes.

Routes come from each operation's ``http.requestUri``, request members from the input shape's
``location``/``locationName``, error status codes from the error shapes, and every response document
is checked against the output shape before it is sent: botocore's parser silently drops members it
does not know, so a misspelt member would otherwise pass every test unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from ggwatch_local.greengrass.model import GreengrassError

_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")
_VALIDATION_ERRORS = ("ValidationException", "InvalidRequestException")


@cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


@dataclass(frozen=True)
class ModelledOperation:
    """One operation of a service model, ready to match requests and parse their members."""

    service: str
    model: OperationModel
    path: re.Pattern[str]

    @classmethod
    def load(cls, service: str, name: str) -> ModelledOperation:
        model = service_model(service).operation_model(name)
        return cls(service, model, _uri_pattern(model.http["requestUri"].split("?")[0]))

    @property
    def name(self) -> str:
        return self.model.name

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """The URI labels (decoded) when this request calls this operation."""
        if method != self.model.http["method"]:
            return None
        found = self.path.match(raw_path)
        return None if found is None else {k: unquote(v) for k, v in found.groupdict().items()}

    def params(self, labels: Mapping[str, str], query: Mapping[str, str]) -> dict[str, Any]:
        """Request members by member name, typed and validated as the service validates them."""
        shape = self.model.input_shape
        params: dict[str, Any] = {}
        if shape is None:
            return params
        for member, member_shape in shape.members.items():
            location = member_shape.serialization.get("location")
            wire_name = member_shape.serialization.get("name", member)
            source = labels if location == "uri" else query if location == "querystring" else {}
            if wire_name in source:
                params[member] = self._typed(member, member_shape, source[wire_name])
        return params

    def error(self, code: str, message: str) -> GreengrassError:
        """A modelled error of this operation, with the HTTP status its error shape declares."""
        for shape in self.model.error_shapes:
            if shape.name == code:
                return GreengrassError(
                    message, code=code, http_status=shape.metadata["error"]["httpStatusCode"]
                )
        raise ValueError(f"{self.name} does not model the error {code}")

    def invalid(self, message: str) -> GreengrassError:
        """The service's own validation error (ValidationException or InvalidRequestException)."""
        modelled = {shape.name for shape in self.model.error_shapes}
        return self.error(next(code for code in _VALIDATION_ERRORS if code in modelled), message)

    def check_output(self, document: Mapping[str, Any]) -> None:
        """Raise when the response document holds something the output shape does not model."""
        problems = list(unmodelled(self.model.output_shape, document, self.name))
        if problems:
            raise ValueError(f"response not in the service model: {'; '.join(problems)}")

    def _typed(self, member: str, shape: Shape, raw: str) -> Any:
        value: Any = raw
        if shape.type_name in ("integer", "long"):
            if not re.fullmatch(r"-?\d+", raw):
                raise self.invalid(f"{member} must be a number, got {raw!r}")
            value = int(raw)
            low, high = shape.metadata.get("min"), shape.metadata.get("max")
            if (low is not None and value < low) or (high is not None and value > high):
                raise self.invalid(f"{member} must be between {low} and {high}, got {value}")
        elif shape.type_name == "boolean":
            value = raw == "true"
        elif shape.type_name == "string":
            enum, pattern = getattr(shape, "enum", None), shape.metadata.get("pattern")
            if enum and raw not in enum:
                raise self.invalid(f"{member} must be one of {', '.join(enum)}, got {raw!r}")
            if pattern and not re.fullmatch(pattern, raw):
                raise self.invalid(f"{member} {raw!r} does not match {pattern}")
        return value


def unmodelled(shape: Shape | None, value: Any, path: str) -> Iterable[str]:
    """Every place where ``value`` is not what ``shape`` describes (unknown member, wrong type)."""
    if shape is None:
        yield f"{path}: no shape"
        return
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            yield f"{path}: expected an object"
            return
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                yield f"{path}.{key}: not a member"
            else:
                yield from unmodelled(member, item, f"{path}.{key}")
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            yield f"{path}: expected a list"
            return
        for i, item in enumerate(value):
            yield from unmodelled(shape.member, item, f"{path}[{i}]")
    elif isinstance(shape, MapShape):
        if not isinstance(value, Mapping):
            yield f"{path}: expected a map"
            return
        for key, item in value.items():
            yield from unmodelled(shape.value, item, f"{path}[{key}]")
    elif not _scalar_fits(shape.type_name, getattr(shape, "enum", None), value):
        yield f"{path}: {value!r} is not a valid {shape.type_name}"


def _scalar_fits(kind: str, enum: list[str] | None, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str) and (not enum or value in enum)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("timestamp", "double", "float"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


def _uri_pattern(uri: str) -> re.Pattern[str]:
    """A regex for a requestUri template: {label} is one path segment, {label+} the rest of the path."""
    pieces, position = [], 0
    for match in _LABEL.finditer(uri):
        label, greedy = match.groups()
        pieces += [re.escape(uri[position : match.start()]), f"(?P<{label}>{'.+' if greedy else '[^/]+'})"]
        position = match.end()
    pieces.append(re.escape(uri[position:]))
    return re.compile(f"^{''.join(pieces)}/?$")
