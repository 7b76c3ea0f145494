"""The answers' JSON encoding: orjson gives exactly what the standard library decodes back, and
Flask's encoding of dates and integer keys where orjson would differ."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcare.entrypoints.api.encoding import FastJsonProvider

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
