"""Search answers as FHIR ``searchset`` Bundles: the page's resources, the total, and links to
this page (``self``) and the next one (``next``) when there is one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from healthcare.application.ports import Page, PageRequest
from healthcare.entrypoints.fhir.interface import fhir
from healthcare.entrypoints.fhir.search import Search

T = TypeVar("T")


def searchset(
    search: Search, page: Page[T], resource_of: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """The page of ``search``'s matches, each made a resource by ``resource_of``."""
    url = f"{fhir.base_url()}/{search.resource}?"
    links = [{"relation": "self", "url": url + search.query(page.request.page)}]
    if page.request.page * page.request.page_size < page.total:
        links.append({"relation": "next", "url": url + search.query(page.request.page + 1)})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
    }
    entries = [_entry(resource_of(item)) for item in page.items]
    if entries:
        bundle["entry"] = entries
    return bundle


def page_of(items: Sequence[T], request: PageRequest) -> Page[T]:
    """One page of a whole answer a use case gave at once."""
    chosen = list(items[request.offset : request.offset + request.page_size])
    return Page(items=chosen, total=len(items), request=request)


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    full_url = fhir.url_of(resource["resourceType"], resource["id"])
    if full_url is not None:  # computed resources (slots) have no address to read them at
        entry["fullUrl"] = full_url
    entry["resource"] = resource
    entry["search"] = {"mode": "match"}
    return entry
