"""Paged, searchable tables: the page and search parameters, paging a query, row URLs."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from sqlalchemy import Select, func, select

from portal.extensions import db

# Longer search text is cut: nothing the portal lists has a longer name or number.
SEARCH_MAX_LENGTH = 100


def search_text(args: Mapping[str, str] | None = None, name: str = "q") -> str:
    """The search box's text (from the URL's ?q= unless other arguments are given)."""
    args = request.args if args is None else args
    return (args.get(name) or "").strip()[:SEARCH_MAX_LENGTH]


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# No list has this many pages; a larger ?page= is read as this and then as the last page.
MAX_PAGE = 1_000_000


def requested_page(value: str | None = None) -> int:
    try:
        page = int(request.args.get("page", "1") if value is None else value)
    except ValueError:
        return 1
    return min(max(1, page), MAX_PAGE)


def paginate(
    query: Select,
    per_page: int | None = None,
    scalars: bool = True,
    page: int | None = None,
    total: int | None = None,
    params: dict[str, Any] | None = None,
) -> Page:
    """`page` defaults to the URL's ?page=; a form re-shown after a POST passes its own.

    A caller that has counted the rows already passes `total`, saving the count query;
    `params` are the values of the query's bound parameters.
    """
    per_page = per_page or current_app.config["PAGE_SIZE"]
    page = page or requested_page()
    if total is None:
        total = db.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery()), params
        )
    # A page past the end (an old link, a typed number) shows the last page.
    page = min(page, max(1, math.ceil((total or 0) / per_page)))
    result = db.session.execute(query.limit(per_page).offset((page - 1) * per_page), params)
    items = list(result.scalars() if scalars else result)
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


_ROW_ID_MARKER = 918273645546372819


def url_for_rows(endpoint: str, id_argument: str, **values: Any) -> Callable[[int], str]:
    """url_for() for a table's rows, which differ only in one integer id: built once per table.

    Building a URL is most of a row's rendering time; here the id is put into the path of one
    URL built with a marker, so every row's URL is exactly what url_for() would give.
    """
    url = url_for(endpoint, **{id_argument: _ROW_ID_MARKER}, **values)
    path, question_mark, query = url.partition("?")
    before, marker, after = path.partition(str(_ROW_ID_MARKER))
    if not marker:
        raise ValueError(f"{endpoint} has no {id_argument} in its path")
    return lambda row_id: f"{before}{int(row_id)}{after}{question_mark}{query}"
