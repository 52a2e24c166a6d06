"""Statements for thousands of rows at once, passed straight to the database driver.

SQLAlchemy's per-row parameter handling and its expansion of long IN lists cost more than
SQLite's own work at this size (a sync exports 10,000 lines): the statements are compiled by
SQLAlchemy for the connection's database, then run with the driver's executemany or with
the ids written in as numbers.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa

# Ids a statement: far below every database's limit on a statement's length.
IDS_PER_STATEMENT = 500

T = TypeVar("T")


def slices(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`, for statements that take only so many."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[tuple]) -> None:
    """INSERT the rows, each a tuple of every column of `table` in the table's order."""
    if not rows:
        return
    sql, order, processors = _insert_statement(connection.dialect, table)
    if any(processors):
        rows = [
            tuple(
                value if process is None or value is None else process(value)
                for value, process in zip(row, processors, strict=True)
            )
            for row in rows
        ]
    if order is None:
        names = [column.name for column in table.columns]
        connection.exec_driver_sql(sql, [dict(zip(names, row, strict=True)) for row in rows])
        return
    if order != tuple(range(len(table.columns))):
        rows = [tuple(row[index] for index in order) for row in rows]
    connection.exec_driver_sql(sql, list(rows))


def update_rows(connection: sa.Connection, table: sa.Table, ids: Sequence[int], **values: Any) -> None:
    """Give every row whose id is in `ids` the same `values`."""
    if not ids:
        return
    sql, order, processors = _update_statement(connection.dialect, table, tuple(values))
    parameters = {
        name: value if process is None or value is None else process(value)
        for (name, value), process in zip(values.items(), processors, strict=True)
    }
    if order is not None:
        parameters = tuple(parameters[name] for name in order)
    for some_ids in slices(ids, IDS_PER_STATEMENT):
        # int() on every id: they are written into the statement, so they must be numbers.
        listed = ", ".join(map(str, map(int, some_ids)))
        connection.exec_driver_sql(f"{sql} WHERE {table.c.id.name} IN ({listed})", parameters)


# Built and compiled once per table (and set of columns): a sync runs these for a few tables
# in every batch of its export, and compiling them anew each time showed in its profile.
@lru_cache(maxsize=64)
def _insert_statement(dialect: sa.Dialect, table: sa.Table) -> tuple[str, tuple[int, ...] | None, list]:
    """The INSERT of every column as SQL for the dialect, the columns' indexes in the order of
    its parameters when they are positional, and each column's bind processor."""
    names = [column.name for column in table.columns]
    statement = table.insert().compile(dialect=dialect, column_keys=names)
    order = tuple(names.index(name) for name in statement.positiontup) if statement.positional else None
    return str(statement), order, [_processor(dialect, column) for column in table.columns]


@lru_cache(maxsize=64)
def _update_statement(
    dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]
) -> tuple[str, tuple[str, ...] | None, list]:
    """The UPDATE of these columns as SQL for the dialect (without its WHERE), its parameters'
    names in order when they are positional, and each column's bind processor."""
    statement = table.update().values({name: sa.bindparam(name) for name in names}).compile(dialect=dialect)
    order = tuple(statement.positiontup) if statement.positional else None
    return str(statement), order, [_processor(dialect, table.c[name]) for name in names]


def _processor(dialect: sa.Dialect, column: sa.Column):
    """What SQLAlchemy would do to a value of the column on its way to the driver (a datetime
    into SQLite's text form, say), or None when the value goes as it is."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)
