"""The answers' wire format: the compiled dump of every answer schema gives exactly what
marshmallow's own ``dump`` gives, and the JSON encoder gives exactly what the standard library
decodes back, for whatever values the fields may hold (None, missing attributes, enums,
non-ASCII text, instants in any zone)."""

from __future__ import annotations

import datetime as dt
import enum
import json
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import fields

from healthcare.entrypoints.api import schemas
from healthcare.entrypoints.api.encoding import FastJsonProvider

ANSWER_SCHEMAS = sorted(
    (
        value
        for value in vars(schemas).values()
        if isinstance(value, type)
        and issubclass(value, schemas.OutSchema)
        and value is not schemas.OutSchema
    ),
    key=lambda schema: schema.__name__,
)


class Colour(enum.StrEnum):
    RED = "red"


aware = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2999, 12, 30),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))]),
)
text = st.text(max_size=20) | st.just(Colour.RED)
MISSING = object()


def _values_for(field: fields.Field) -> st.SearchStrategy[Any]:
    if isinstance(field, fields.Nested):
        nested = field.schema
        inner = st.builds(lambda: _object_for(nested)) if not nested.many else st.just([])
        return st.none() | inner
    by_type: list[tuple[type[fields.Field], st.SearchStrategy[Any]]] = [
        (schemas.UtcDateTime, aware),
        (fields.DateTime, aware),
        (fields.Date, st.dates()),
        (fields.Time, st.times()),
        (fields.Boolean, st.booleans()),
        (fields.Integer, st.integers(-(2**63), 2**63 - 1) | st.booleans()),
        (fields.String, text),
    ]
    for kind, strategy in by_type:
        if isinstance(field, kind):
            return st.none() | st.just(MISSING) | strategy
    raise AssertionError(f"no values for {type(field).__name__}: teach this test the field")


def _object_for(schema: ma.Schema) -> SimpleNamespace:
    """An object with a fixed, plausible value for every field (nested answers)."""
    return SimpleNamespace(**{name: None for name in schema.dump_fields})


@pytest.mark.parametrize("schema_class", ANSWER_SCHEMAS, ids=lambda s: s.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_compiled_dump_is_marshmallows_dump(schema_class: type[ma.Schema], data: Any) -> None:
    schema = schema_class()
    items = []
    for _ in range(data.draw(st.integers(1, 3))):
        attributes = {
            (field.attribute or name): data.draw(_values_for(field), label=name)
            for name, field in schema.dump_fields.items()
        }
        present = {k: v for k, v in attributes.items() if v is not MISSING}
        # Views answer with domain objects or with dicts (a slot, a policy).
        as_dict = data.draw(st.booleans(), label="as a dict")
        items.append(present if as_dict else SimpleNamespace(**present))
    assert schema.dump(items[0]) == ma.Schema.dump(schema, items[0])
    assert schema.dump(items, many=True) == ma.Schema.dump(schema, items, many=True)
    assert schema_class(many=True).dump(items) == ma.Schema.dump(schema, items, many=True)


def test_a_mapping_is_dumped_as_marshmallow_dumps_it() -> None:
    schema = schemas.HealthOut()
    assert schema.dump({"status": "ready"}) == {"status": "ready"}
    assert schema.dump({}) == ma.Schema.dump(schema, {})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_the_json_encoder_round_trips_through_the_standard_library(value: Any) -> None:
    # Integers beyond 64 bits and lone surrogates are orjson's refusals: they take Flask's
    # encoder, so they still round-trip.
    provider = FastJsonProvider(Flask(__name__))
    assert json.loads(provider.dumps(value, separators=(",", ":"))) == value


def test_the_json_encoder_keeps_flasks_encoding_of_dates_and_integer_keys() -> None:
    flask_app = Flask(__name__)
    fast, flasks = FastJsonProvider(flask_app), DefaultJSONProvider(flask_app)
    moment = dt.datetime(2030, 1, 7, 8, 0, tzinfo=dt.UTC)
    for value in ({"at": moment}, {"day": dt.date(2030, 1, 7)}, {2: "integer key"}):
        assert json.loads(fast.dumps(value)) == json.loads(flasks.dumps(value))
