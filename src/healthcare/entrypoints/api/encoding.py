"""How answers become JSON: orjson, about ten times faster than ``json`` on a page of 50.

Flask's own provider stays the fallback, so nothing that encoded before fails now: dates, times
and dataclasses go through Flask's ``default`` exactly as before (the passthrough options), and
anything orjson refuses (an integer beyond 64 bits, a lone surrogate in a string) is encoded by
the standard library. Keys keep the schemas' field order instead of being sorted; a non-finite
float would be ``null`` (valid JSON) rather than ``Infinity`` (no answer carries floats). Request
bodies are still parsed by the standard library, whose error messages the 400 answers quote.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


class FastJsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if "indent" in kwargs:  # debug mode's pretty-printing: rare, keep Flask's
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().dumps(obj, **kwargs)
