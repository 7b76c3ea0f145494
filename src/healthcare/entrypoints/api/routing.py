"""What every resource blueprint shares: id path segments, pagination, documented errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Response
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter, ValidationError

from healthcare.application.ports import Page, PageRequest
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.schemas.fields import MAX_ID

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

PAGINATION_HEADER = "X-Pagination"
#: For ``@blp.response(..., headers=LIST_HEADERS)``. The header's value is a JSON object, which
#: OpenAPI 3 describes with ``content`` (flask-smorest's own component gives it an object
#: ``schema``, which promises the ``simple`` style, ``total,3,page,1``, instead).
LIST_HEADERS = {
    PAGINATION_HEADER: {
        "description": "Pagination metadata, as a JSON object.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/PaginationMetadata"}}
        },
    }
}
#: Operations anyone may call, without a token.
PUBLIC: list[dict[str, list[str]]] = []


class IdConverter(IntegerConverter):
    """``<id:name>``: a positive id within MAX_ID; anything else is simply not a route (404)."""

    def __init__(self, map: Any) -> None:  # noqa: A002 - werkzeug's signature
        super().__init__(map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):  # before int(): Python refuses very long numbers
            raise ValidationError()
        return super().to_python(value)  # type: ignore[no-any-return]


class JsonBodyParser(FlaskParser):
    """webargs' parser, but a body too deep or with a number too long for Python is a 400,
    like any other malformed JSON, instead of an exception."""

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as error:
            # A non-empty doc: webargs reads an empty one as "no body".
            raise json.JSONDecodeError(f"Unparseable JSON: {error}", "<body>", 0) from None


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's, with a schema class made an instance once, here: webargs makes a
        new instance of a class on every request (0.1-0.2 ms each)."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)


def id_converter_schema(converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def resource(name: str, url_prefix: str, description: str) -> ApiBlueprint:
    return ApiBlueprint(name, name, url_prefix=url_prefix, description=description)


def documents(blp: Blueprint, *codes: int) -> Callable[[F], F]:
    """Document the error answers an operation may give, each in the common error body.

    503 (database unreachable, with Retry-After) is added: every operation may meet it.
    """

    def decorator(fn: F) -> F:
        for code in dict.fromkeys((*codes, 503)):
            fn = blp.alt_response(code, response=HTTPStatus(code).name)(fn)
        return fn

    return decorator


def page_request(args: dict[str, Any]) -> PageRequest:
    """Take ``page``/``page_size`` out of parsed query ``args``; the rest are filters."""
    return PageRequest(page=args.pop("page", 1), page_size=args.pop("page_size", 50))


def paginated(page: Page[Any]) -> Response:
    """The page's items as the body (a JSON array), its metadata in ``X-Pagination`` (the
    format of flask-smorest's ``@blp.paginate``, which cannot wrap an answer already encoded
    and would parse the query string a second time)."""
    size = page.request.page_size
    total_pages = (page.total + size - 1) // size
    meta: dict[str, int] = {"total": page.total, "total_pages": total_pages}
    if total_pages:
        meta.update(first_page=1, last_page=total_pages)
        if page.request.page <= total_pages:
            meta["page"] = page.request.page
            if page.request.page > 1:
                meta["previous_page"] = page.request.page - 1
            if page.request.page < total_pages:
                meta["next_page"] = page.request.page + 1
    return answer(page.items, 200, {PAGINATION_HEADER: json.dumps(meta)})
