"""Search parameters, strictly: each declared with its FHIR type and a parser, and a search
naming anything else is refused (400) with every unknown parameter named.

Paging: ``_count`` (default 50, at most 100: a larger count is served as 100, as FHIR lets a
server do) and ``page`` (from 1), which the Bundle's ``next`` link carries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask_smorest import abort
from werkzeug.datastructures import MultiDict

from healthcare.application.ports import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from healthcare.entrypoints.api.schemas.fields import MAX_ID, MAX_PAGE, YEARS

COUNT, PAGE = "_count", "page"
TEXT_MAX = 200

#: FHIR's date search values: a year, a month, a day, or an instant.
DATE_VALUE = re.compile(
    r"(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(?P<time>T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(?P<offset>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


@dataclass(frozen=True)
class SearchParameter:
    name: str
    #: FHIR's SearchParamType: string, token, reference, date.
    type: str
    documentation: str
    #: The values given (one per occurrence) -> what the view gets; ValueError says what is wrong.
    parse: Callable[[list[str]], Any]
    required: bool = False


@dataclass(frozen=True)
class Search:
    resource: str
    values: dict[str, Any]
    page: PageRequest
    #: The search parameters as given, for the Bundle's links.
    given: tuple[tuple[str, str], ...]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def query(self, page: int) -> str:
        """This search's query string, on page ``page``."""
        paging = ((COUNT, str(self.page.page_size)), (PAGE, str(page)))
        return urlencode((*self.given, *paging))

    @classmethod
    def parse(
        cls, resource: str, parameters: Sequence[SearchParameter], args: MultiDict[str, str]
    ) -> Search:
        known = {parameter.name: parameter for parameter in parameters}
        errors: dict[str, list[str]] = {}
        unknown = [name for name in args if name not in known and name not in (COUNT, PAGE)]
        for name in unknown:
            errors[name] = [f"Unknown search parameter; {resource} takes {_names(parameters)}."]
        values: dict[str, Any] = {}
        for parameter in parameters:
            given = args.getlist(parameter.name)
            if not given:
                if parameter.required:
                    errors[parameter.name] = ["Required."]
                continue
            try:
                values[parameter.name] = parameter.parse(given)
            except ValueError as error:
                errors[parameter.name] = [str(error)]
        try:
            size = min(_whole(args.getlist(COUNT), DEFAULT_PAGE_SIZE, 1, None), MAX_PAGE_SIZE)
        except ValueError as error:
            errors[COUNT] = [str(error)]
            size = DEFAULT_PAGE_SIZE
        try:
            page = _whole(args.getlist(PAGE), 1, 1, MAX_PAGE)
        except ValueError as error:
            errors[PAGE] = [str(error)]
            page = 1
        if errors:
            named = ", ".join(unknown) if unknown else ", ".join(errors)
            what = "Unknown search parameter" if unknown else "Invalid search parameter"
            abort(400, message=f"{what}: {named}.", errors=errors)
        given_pairs = tuple(
            (name, value) for name, value in args.items(multi=True) if name not in (COUNT, PAGE)
        )
        return cls(resource, values, PageRequest(page=page, page_size=size), given_pairs)


def _names(parameters: Sequence[SearchParameter]) -> str:
    return ", ".join([p.name for p in parameters] + [COUNT, PAGE])


def _whole(given: list[str], default: int, low: int, high: int | None) -> int:
    if not given:
        return default
    text = _one(given)
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise ValueError("A whole number.")
    value = int(text)
    if value < low or (high is not None and value > high):
        raise ValueError(f"From {low}" + (f" to {high}." if high is not None else " on."))
    return value


def _one(given: list[str]) -> str:
    if len(given) != 1:
        raise ValueError("Give this parameter once.")
    return given[0]


# -- parsers of values -----------------------------------------------------------------------


def text(given: list[str]) -> str:
    """One non-empty text, at most 200 characters."""
    value = _one(given)
    if not value or len(value) > TEXT_MAX or "\x00" in value:
        raise ValueError(f"1 to {TEXT_MAX} characters.")
    return value


def code(*codes: str) -> Callable[[list[str]], str]:
    """One of ``codes``."""

    def parse(given: list[str]) -> str:
        value = _one(given)
        if value not in codes:
            raise ValueError(f"One of: {', '.join(codes)}.")
        return value

    return parse


def reference(resource_type: str) -> Callable[[list[str]], int]:
    """One reference to a resource of ``resource_type`` (``Type/<id>`` or ``<id>``): its id."""

    def parse(given: list[str]) -> int:
        return local_id(_one(given), resource_type)

    return parse


def local_id(reference: str, resource_type: str) -> int:
    """The id in a reference to one of this server's resources (``Patient/3`` or ``3``);
    ValueError for anything else."""
    prefix = f"{resource_type}/"
    number = reference[len(prefix) :] if reference.startswith(prefix) else reference
    if number.isascii() and number.isdigit() and len(number) <= len(str(MAX_ID)):
        if 1 <= int(number) <= MAX_ID:
            return int(number)
    raise ValueError(f"Expected {resource_type}/<id>, an id of this server.")


def instant_range(*, both: bool = False) -> Callable[[list[str]], tuple[datetime | None, datetime | None]]:
    """``ge<date>`` (on or after) and/or ``lt<date>`` (before), each at most once (``both``:
    each exactly once): ``(start, end)`` in UTC. A date without a time is its first instant in
    UTC; a time must carry its offset."""

    def parse(given: list[str]) -> tuple[datetime | None, datetime | None]:
        bounds: dict[str, datetime] = {}
        for value in given:
            prefix, moment = value[:2], value[2:]
            if prefix not in ("ge", "lt"):
                raise ValueError("Use ge<date> and lt<date>; no other prefix is supported.")
            if prefix in bounds:
                raise ValueError(f"{prefix} is given twice.")
            bounds[prefix] = fhir_instant(moment)
        if both and len(bounds) != 2:
            raise ValueError("Give both ge<date> and lt<date>.")
        return bounds.get("ge"), bounds.get("lt")

    return parse


def fhir_instant(value: str) -> datetime:
    """A FHIR search date (``2030``, ``2030-01``, ``2030-01-08``, ``2030-01-08T09:00:00Z``) as
    the first instant it names, in UTC."""
    value = value.replace(" ", "+")  # a "+01:00" offset sent without URL encoding
    found = DATE_VALUE.fullmatch(value)
    if found is None:
        raise ValueError("A FHIR date: 2030-01-08, or 2030-01-08T09:00:00Z with an offset.")
    year = int(found["year"])
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"A year from {YEARS[0]} to {YEARS[1]}.")
    if found["time"] and not found["offset"]:
        raise ValueError("A time must carry its offset, e.g. 2030-01-08T09:00:00Z.")
    try:
        if found["time"]:
            return datetime.fromisoformat(value).astimezone(UTC)
        day = date(year, int(found["month"] or 1), int(found["day"] or 1))
    except ValueError as error:
        raise ValueError(f"Not a date: {error}.") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


#: Practitioner's and Patient's ``name``.
NAME = SearchParameter("name", "string", "Part of the name, any case, matched anywhere in it.", text)
