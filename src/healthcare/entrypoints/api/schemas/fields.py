"""Field types of the wire format: ids, bounded text, instants with an offset, local times.

Datetimes must carry an offset and are answered in UTC (``...Z``).
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


#: Instants outside these years are refused: far ones overflow date arithmetic, and no clinic
#: books them.
YEARS = (1900, 2999)


#: The same bound in the OpenAPI document, so clients (and fuzzers) know it.
YEARS_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-"


#: What the domain accepts as an email (``domain.model.normalize_email``, which strips the
#: surrounding blanks first), documented.
EMAIL = {"pattern": r"^\s*[^@\s\u0000]+@[^@\s\u0000]+\.[^@\s\u0000]+\s*$"}


EMAIL_LENGTH = validate.Length(max=254)


#: What ``check_password_strength`` accepts, documented; the rule itself stays in the use case.
NEW_PASSWORD = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}


class UtcDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset on input (naive is refused); UTC with ``Z`` on output."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": YEARS_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not YEARS[0] <= parsed.year <= YEARS[1]:
            raise ma.ValidationError(f"Must be between the years {YEARS[0]} and {YEARS[1]}.")
        return parsed.astimezone(dt.UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is not dt.UTC:  # what the repositories return is UTC already
            value = value.astimezone(dt.UTC)
        return value.isoformat().replace("+00:00", "Z")


class Id(fields.Integer):
    """A positive id within :data:`MAX_ID`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


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


def choice(values: Any) -> validate.OneOf:
    return validate.OneOf([str(v) for v in values])


#: Wall-clock times of weekly hours, in the doctor's time zone: "09:00" or "09:00:00".
LOCAL_TIME = {"description": "Local wall-clock time in the doctor's time zone.", "example": "09:00"}


LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


class LocalTime(fields.Time):
    """``HH:MM`` or ``HH:MM:SS``, exactly as documented (``time.fromisoformat`` alone would also
    take ``"12"``, fractions and offsets, which the document does not promise)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {**LOCAL_TIME, "pattern": LOCAL_TIME_PATTERN}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        # The pattern applies to the text sent; validators would only see the parsed time.
        if not isinstance(value, str) or not re.match(LOCAL_TIME_PATTERN, value):
            raise ma.ValidationError("Not a time of day as HH:MM or HH:MM:SS.")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]
