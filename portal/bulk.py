"""Statements for thousands of rows at once, passed straight to the database driver.

SQLAlchemy's per-row parameter handling and its expansion of long IN lists cost more than
SQLite's own work at this size (a sync exports 10,000 lines): the statements are compiled by
SQLAlchemy for the connection's database, then run with the driver's executemany or with
the ids written in as numbers.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    names = [column.name for column in table.columns]
    statement = table.insert().compile(dialect=connection.dialect, column_keys=names)
    processors = [_bind_processor(connection, column) for column in table.columns]
    if any(processors):
        rows = [
            tuple(
                value if process is None or value is None else process(value)
                for value, process in zip(row, processors, strict=True)
            )
            for row in rows
        ]
    if statement.positional:
        order = [names.index(name) for name in statement.positiontup]
        if order != list(range(len(names))):
            rows = [tuple(row[index] for index in order) for row in rows]
        connection.exec_driver_sql(str(statement), list(rows))
    else:
        connection.exec_driver_sql(str(statement), [dict(zip(names, row, strict=True)) for row in rows])


def update_rows(connection: sa.Connection, table: sa.Table, ids: Sequence[int], **values: Any) -> None:
    """Give every row whose id is in `ids` the same `values`."""
    if not ids:
        return
    statement = table.update().values(**values).compile(dialect=connection.dialect)
    parameters = {}
    for name, value in statement.construct_params().items():
        process = _bind_processor(connection, table.c[name])
        parameters[name] = value if process is None or value is None else process(value)
    if statement.positional:
        parameters = tuple(parameters[name] for name in statement.positiontup)
    for some_ids in slices(ids, IDS_PER_STATEMENT):
        # int() on every id: they are written into the statement, so they must be numbers.
        listed = ", ".join(str(int(row_id)) for row_id in some_ids)
        connection.exec_driver_sql(f"{statement} WHERE {table.c.id.name} IN ({listed})", parameters)


def _bind_processor(connection: sa.Connection, column: sa.Column):
    """What SQLAlchemy would do to a value of the column on its way to the driver (a datetime
    into SQLite's text form, say), or None when the value goes as it is."""
    dialect = connection.dialect
    return column.type.dialect_impl(dialect).bind_processor(dialect)
