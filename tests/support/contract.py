"""The API's own OpenAPI document as a contract every answer is held to.

``Contract`` finds the documented operation of a request and checks an answer against it: the
status is documented, the body validates against the response schema (JSON Schema 2020-12, the
dialect of OpenAPI 3.1, formats included) and a documented ``X-Pagination`` header against its
schema. ``ContractClient`` is Flask's test client doing that for every answer it receives, and
remembering which operations answered with success.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from healthcare.entrypoints.api.routing import PAGINATION_HEADER

METHODS = ("get", "put", "post", "patch", "delete")


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._routes = [
            (re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path.rstrip("/")) + "/?$"), path)
            for path in document["paths"]
        ]
        self._validators: dict[str, jsonschema_rs.Validator] = {}

    def operations(self) -> set[tuple[str, str]]:
        """Every documented ``(METHOD, path template)``."""
        return {
            (method.upper(), path)
            for path, item in self.document["paths"].items()
            for method in item
            if method in METHODS
        }

    def route(self, path: str) -> str | None:
        """The path template a concrete path belongs to (with or without the trailing slash)."""
        for pattern, template in self._routes:
            if pattern.match(path):
                return template
        return None

    def operation(self, method: str, template: str) -> dict[str, Any] | None:
        return self.document["paths"][template].get(method.lower())  # type: ignore[no-any-return]

    def request_schema(self, method: str, template: str) -> dict[str, Any] | None:
        operation = self.operation(method, template) or {}
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        return None if body is None else body["schema"]  # type: ignore[no-any-return]

    def response(self, method: str, template: str | None, status: int) -> dict[str, Any]:
        """The documented response for ``status``; an unknown route or method answers with the
        error schema (what ``default`` documents)."""
        operation = self.operation(method, template) if template else None
        if operation is None:
            return self.resolve({"$ref": "#/components/responses/DEFAULT_ERROR"})
        responses = operation["responses"]
        found = responses.get(str(status))
        if found is None:
            assert status >= 400, f"{method} {template} answered {status}, not documented"
            found = responses["default"]
        return self.resolve(found)

    def errors_in(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """Why ``instance`` does not validate against ``schema`` (nothing if it does)."""
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = jsonschema_rs.Draft202012Validator(
                {**schema, "components": self.document["components"]}, validate_formats=True
            )
        return [
            f"{'/'.join(map(str, e.instance_path)) or '(body)'}: {e.message}"
            for e in self._validators[key].iter_errors(instance)
        ]

    def check(self, method: str, path: str, response: TestResponse) -> str | None:
        """Hold ``response`` to the document; the operation it answered, or None if no route."""
        template = self.route(path)
        documented = self.response(method, template, response.status_code)
        where = f"{method} {path} -> {response.status_code}"
        media = documented.get("content", {})
        content = media.get("application/json")
        if content is None and response.mimetype in media:  # another documented media type
            assert response.get_data(), f"{where}: an empty {response.mimetype} body"
        elif content is None:
            assert not response.get_data(), f"{where}: a body where none is documented"
        else:
            assert response.mimetype == "application/json", f"{where}: {response.mimetype}"
            problems = self.errors_in(content["schema"], response.get_json())
            assert not problems, f"{where}: {problems} in {response.get_data(as_text=True)}"
        header = documented.get("headers", {}).get(PAGINATION_HEADER)
        if header is not None:
            schema = header["content"]["application/json"]["schema"]
            problems = self.errors_in(schema, json.loads(response.headers[PAGINATION_HEADER]))
            assert not problems, f"{where}: {PAGINATION_HEADER} {problems}"
        return template

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            _, *parts = node["$ref"].split("/")
            node = self.document
            for part in parts:
                node = node[part]
        return node


class ContractClient(FlaskClient):
    """A test client that holds every answer to the app's live ``/api/openapi.json`` and
    remembers the operations that answered 2xx (``succeeded``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contract = Contract(super().open("/api/openapi.json").get_json())
        self.succeeded: set[tuple[str, str]] = set()

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # type: ignore[override]
        response = super().open(*args, **kwargs)
        method, path = response.request.method, response.request.path
        template = self.contract.check(method, path, response)
        if template is not None and 200 <= response.status_code < 300:
            self.succeeded.add((method, template))
        return response
