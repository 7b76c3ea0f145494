"""The FHIR blueprint and what its views share.

Each view is registered as one FHIR interaction (``read``, ``search-type``, ``create``,
``patch``) of one resource type; the registry is what the CapabilityStatement lists, so it can
never claim an interaction that has no route. Every interaction but ``metadata`` needs a signed-in
caller (the REST API's Bearer tokens and checks). Bodies are FHIR JSON, parsed with the
``fhir.resources`` R4B models before anything reaches a use case; answers are
``application/fhir+json``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import orjson
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from flask import Blueprint, Response, request
from flask_smorest import abort
from pydantic import ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.security import signed_in
from healthcare.entrypoints.fhir.search import Search, SearchParameter

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=FHIRAbstractModel)

FHIR_JSON = "application/fhir+json"
#: A resource may come as FHIR JSON or plain JSON; a patch as a JSON Patch (RFC 6902).
RESOURCE_TYPES = (FHIR_JSON, "application/json")
PATCH_TYPES = ("application/json-patch+json", "application/json")
#: How many validation problems an OperationOutcome lists at most.
MAX_ISSUES = 20


class FhirInterface:
    """A Flask blueprint that records the FHIR interactions its views implement."""

    def __init__(self, name: str, url_prefix: str) -> None:
        self.blueprint = Blueprint(name, __name__, url_prefix=url_prefix)
        #: Resource type -> its interactions' codes, in the order they were registered.
        self.interactions: dict[str, list[str]] = {}
        #: Resource type -> the parameters its search takes.
        self.search_parameters: dict[str, tuple[SearchParameter, ...]] = {}

        @self.blueprint.after_request
        def never_cache(response: Response) -> Response:
            # Answers carry patient data: no browser or proxy may keep them.
            response.headers["Cache-Control"] = "no-store"
            return response

    @property
    def url_prefix(self) -> str:
        return self.blueprint.url_prefix or ""

    def base_url(self) -> str:
        """This server's FHIR base, as the request reached it."""
        return request.url_root.rstrip("/") + self.url_prefix

    def url_of(self, resource_type: str, resource_id: Any) -> str | None:
        """The absolute URL of a resource, when it can be read there."""
        if "read" not in self.interactions.get(resource_type, ()):
            return None
        return f"{self.base_url()}/{resource_type}/{resource_id}"

    # -- interactions ------------------------------------------------------------------------

    def read(self, resource: str) -> Callable[[F], F]:
        """``GET [base]/<resource>/<id>``: the view takes ``resource_id``."""
        return self._interaction(resource, "read", f"/{resource}/<id:resource_id>", "GET")

    def create(self, resource: str) -> Callable[[F], F]:
        """``POST [base]/<resource>``: the view reads the body (``resource_body``)."""
        return self._interaction(resource, "create", f"/{resource}", "POST")

    def patch(self, resource: str) -> Callable[[F], F]:
        """``PATCH [base]/<resource>/<id>``: the view takes ``resource_id``, reads the body
        (``patch_body``)."""
        return self._interaction(resource, "patch", f"/{resource}/<id:resource_id>", "PATCH")

    def search(self, resource: str, *parameters: SearchParameter) -> Callable[[F], F]:
        """``GET [base]/<resource>?...``: the view takes the parsed ``Search``; a parameter
        not among ``parameters`` (or the paging ones) is refused, naming it."""

        def decorator(view: F) -> F:
            @wraps(view)
            def searching() -> Any:
                return view(Search.parse(resource, parameters, request.args))

            self.search_parameters[resource] = parameters
            self._interaction(resource, "search-type", f"/{resource}", "GET")(searching)
            return view

        return decorator

    def _interaction(self, resource: str, code: str, rule: str, method: str) -> Callable[[F], F]:
        def decorator(view: F) -> F:
            self.interactions.setdefault(resource, []).append(code)
            self.blueprint.add_url_rule(
                rule, f"{resource}-{code}", signed_in(view), methods=[method]
            )
            return view

        return decorator


fhir = FhirInterface("fhir", "/fhir/R4")


# -- answers ---------------------------------------------------------------------------------


def fhir_answer(
    resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return answer(resource, status, headers, mimetype=FHIR_JSON)


def as_json(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` as its JSON answer reads (datetimes as FHIR instants)."""
    return orjson.loads(orjson.dumps(resource, option=orjson.OPT_UTC_Z))  # type: ignore[no-any-return]


# -- bodies ----------------------------------------------------------------------------------


def json_body(media_types: tuple[str, ...]) -> Any:
    """The request's JSON body, sent as one of ``media_types`` (415 otherwise; 400 when it is
    not JSON)."""
    if request.mimetype not in media_types:
        raise UnsupportedMediaType(f"Send the body as {' or '.join(media_types)}.")
    try:
        return orjson.loads(request.get_data())
    except orjson.JSONDecodeError as error:
        abort(400, message=f"The body is not JSON: {error}")


def resource_body(model: type[M]) -> tuple[dict[str, Any], M]:
    """The body as sent and as the R4B ``model`` parsed it; a body that is not a valid FHIR
    resource of that type is 400, each problem an issue."""
    sent = json_body(RESOURCE_TYPES)
    expected = model.get_resource_type()
    if not isinstance(sent, dict) or sent.get("resourceType") != expected:
        abort(400, message=f"The body must be a FHIR {expected} resource.")
    try:
        return sent, model.model_validate(sent)
    except ValidationError as error:
        abort(
            400,
            message=f"The body is not a valid FHIR R4 {expected}.",
            errors=problems(expected, error),
        )


def patch_body() -> list[dict[str, Any]]:
    """A JSON Patch document: a list of operation objects (400 otherwise)."""
    operations = json_body(PATCH_TYPES)
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        abort(400, message="A JSON Patch is a list of operation objects (RFC 6902).")
    return operations  # type: ignore[no-any-return]


def problems(resource_type: str, error: ValidationError) -> dict[str, list[str]]:
    """The validation problems as ``{FHIRPath of the element: [what is wrong]}``."""
    found: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False, include_input=False)[:MAX_ISSUES]:
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"])
        found.setdefault(resource_type + path, []).append(problem["msg"])
    return found
