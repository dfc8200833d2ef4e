"""One way to describe a pydantic error: each field by its dotted path, never the rejected value."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from ggwatch.validation import describe


class Inner(BaseModel):
    count: int


class Outer(BaseModel):
    name: str
    inner: Inner


def error_of(value: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(value)
    return caught.value


def test_each_field_at_fault_is_named_by_its_path_and_the_value_is_not_echoed() -> None:
    text = describe(error_of({"inner": {"count": "hunter2"}}))
    assert (
        text
        == "name: Field required; inner.count: Input should be a valid integer, unable to parse string as an integer"
    )
    assert "hunter2" not in text


def test_prefix_first_only_type_and_whole_input() -> None:
    error = error_of({"inner": {"count": "x"}})
    assert describe(error, prefix="detail.", first_only=True) == "detail.name: Field required"
    assert describe(error, say="type") == "name: missing; inner.count: int_parsing"
    assert (
        describe(error_of([1]), whole="event")
        == "event: Input should be a valid dictionary or instance of Outer"
    )
