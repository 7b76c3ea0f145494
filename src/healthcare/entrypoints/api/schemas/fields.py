"""Field types of the wire format: ids, bounded text, names, instants with an offset, dates,
local times.

Each textual format is documented as a ``pattern`` and the same pattern is what the field
accepts, so the OpenAPI document is exact. Datetimes must carry an offset and are answered in
UTC (``...Z``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.application.services.accounts import PASSWORD_MAX, PASSWORD_MIN

#: Ids are 64-bit in every supported database (PostgreSQL ``bigint``, SQLite ``integer``);
#: a larger one is refused as input instead of overflowing in the database.
MAX_ID = 2**63 - 1


MAX_PAGE = 1_000_000


TEXT = validate.Length(max=20_000)


SHORT = validate.Length(max=200)


#: Dates and instants outside the years 1900-2999 are refused: far ones overflow date
#: arithmetic, and no clinic books them.
YEARS = (1900, 2999)
#: ``YEARS`` as a pattern.
YEAR = r"(19[0-9]{2}|2[0-9]{3})"
DAY = YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
#: RFC 3339 as the API reads it, documented as the ``pattern`` and enforced on the text sent:
#: seconds, at most six fractional digits (a microsecond, what is stored; more would be cut
#: silently), and ``Z`` or an offset. Python alone would also take ISO 8601's other spellings.
DATETIME_PATTERN = (
    rf"^{DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,6}})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
DATE_PATTERN = rf"^{DAY}$"


#: What the domain accepts as an email (``domain.model.normalize_email``, which strips the
#: surrounding blanks first), documented.
EMAIL = {"pattern": r"^\s*[^@\s\u0000]+@[^@\s\u0000]+\.[^@\s\u0000]+\s*$"}


EMAIL_LENGTH = validate.Length(max=254)


#: What ``check_password_strength`` accepts, documented; the rule itself stays in the use case.
NEW_PASSWORD = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}


def matching(pattern: str, value: Any, message: str) -> str:
    """``value`` itself, if it is text that matches ``pattern`` as a whole."""
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise ma.ValidationError(message)
    return value


class UtcDateTime(fields.AwareDateTime):
    """RFC 3339 with an offset on input (:data:`DATETIME_PATTERN`); UTC with ``Z`` on output."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": DATETIME_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        matching(
            DATETIME_PATTERN,
            value,
            "Not a date-time like 2030-01-08T09:30:00Z: seconds, at most 6 fractional digits, "
            "Z or an offset such as +01:00, a year from 1900 to 2999.",
        )
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed.astimezone(dt.UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is not dt.UTC:  # what the repositories return is UTC already
            value = value.astimezone(dt.UTC)
        return value.isoformat().replace("+00:00", "Z")


class Whole(fields.Integer):
    """A whole number in a body, as JSON Schema counts them: ``3`` and ``3.0`` alike, never
    ``3.5``, ``"3"`` or ``true``. (marshmallow's strict integer would also refuse ``3.0``, which
    the document calls an integer; a lax one would take ``"3"`` and cut ``3.5`` to 3.)"""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]


class Id(Whole):
    """A positive id within :data:`MAX_ID`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class QueryId(fields.Integer):
    """An id in a query string, where every value arrives as text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


#: No NUL character (PostgreSQL's text cannot hold one), said in the OpenAPI document too.
NO_NUL_PATTERN = r"^[^\u0000]*$"


class Text(fields.String):
    """A string the databases can store: bounded, no NUL character, valid Unicode."""

    def __init__(self, limit: validate.Length = SHORT, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": NO_NUL_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(validate=limit, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("Not valid Unicode text.") from None
        return text


#: The characters ``str.strip()`` removes (``str.isspace``), spelled out so that the document's
#: regular expression means the same in every engine.
BLANK = (
    r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680"
    r"\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: At least one character that is not blank, and no NUL.
NAME_PATTERN = rf"^[^\u0000]*[^\u0000{BLANK}][^\u0000]*$"


class Name(Text):
    """Text that must say something: the domain trims names and refuses an empty one, and the
    document says so."""

    def __init__(self, limit: validate.Length = SHORT, **kwargs: Any) -> None:
        kwargs["metadata"] = {**kwargs.get("metadata", {}), "pattern": NAME_PATTERN}
        super().__init__(limit, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return matching(NAME_PATTERN, text, "Must not be blank.")


def choice(values: Any) -> validate.OneOf:
    return validate.OneOf([str(v) for v in values])


class Day(fields.Date):
    """A calendar date, ``YYYY-MM-DD`` (:data:`DATE_PATTERN`) and nothing else ISO 8601 allows."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": DATE_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        matching(DATE_PATTERN, value, "Not a date like 2030-01-08 (a year from 1900 to 2999).")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]


#: Wall-clock times of weekly hours, in the doctor's time zone: "09:00" or "09:00:00".
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


class LocalTime(fields.Time):
    """``HH:MM`` or ``HH:MM:SS``, exactly as documented (``time.fromisoformat`` alone would also
    take ``"12"``, fractions and offsets, which the document does not promise)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "description": "Local wall-clock time in the doctor's time zone.",
            "pattern": LOCAL_TIME_PATTERN,
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        # The pattern applies to the text sent; validators would only see the parsed time.
        matching(LOCAL_TIME_PATTERN, value, "Not a time of day as HH:MM or HH:MM:SS.")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]
