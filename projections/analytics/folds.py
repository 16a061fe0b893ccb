"""Rows that later events change (an order's lines, a shipment, an invoice), folded in memory.

The projector is the only writer of these tables, so a group it wrote need not be read back:
groups stay in a bounded cache of their last committed rows, and only a miss reads ClickHouse
(FINAL, one query per table and batch). A group's `version` is the global position of the last
event applied to it, so an event at or below it is skipped: replays change nothing.

The cache lives in the process that projects, the API worker's with chdb, so it must not cost
that process's full collections: a row holds only values the cycle collector does not track
(str, int, Decimal, datetime, None; ids as strings), and a committed group is kept as a tuple
of its rows' values, which a collection untracks once it meets it (a list, or a tuple of
dicts, stays tracked). A batch works on dicts made from them (ADR 0052).
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.embedded.clickhouse import SharedClient

# A group's key: (tenant, id) as the UUIDs' integers. uuid.UUID hashes and compares in Python,
# and a batch looks groups up millions of times (measured: a sixth of folding a batch).
Key = tuple[int, int]
Row = dict[str, Any]
Values = tuple[Any, ...]  # a row's values, in the fold's column order
# Keys per read: a key is about 80 characters of SQL, and a query's text may not exceed
# ClickHouse's max_query_size (256 KiB by default, on a server as in chdb).
KEYS_PER_READ = 2_000


class Fold:
    def __init__(
        self, table: str, key: tuple[str, str], columns: Sequence[str], cache_size: int = 50_000
    ) -> None:
        self.table = table
        self.key = key
        self.columns = list(columns)
        self.cache_size = cache_size
        self._committed: OrderedDict[Key, tuple[Values, ...]] = OrderedDict()
        self._pending: dict[Key, list[Row]] = {}
        self._values = operator.itemgetter(*self.columns)

    def load(self, client: SharedClient, keys: Iterable[Key]) -> None:
        """Reads the groups among `keys` that the cache does not hold."""
        missing = [
            k for k in dict.fromkeys(keys) if k not in self._committed and k not in self._pending
        ]
        if not missing:
            return
        found: dict[Key, list[Values]] = {k: [] for k in missing}
        first, second = self.columns.index(self.key[0]), self.columns.index(self.key[1])
        for chunk in range(0, len(missing), KEYS_PER_READ):
            pairs = ",".join(
                f"('{UUID(int=t)}','{UUID(int=i)}')"
                for t, i in missing[chunk : chunk + KEYS_PER_READ]
            )
            result = client.query(
                f"SELECT {', '.join(self.columns)} FROM {self.table} FINAL "
                f"WHERE ({self.key[0]}, {self.key[1]}) IN ({pairs})"
            )
            for values in result.result_rows:
                found[group_key(values[first], values[second])].append(tuple(map(_stored, values)))
        for k, rows in found.items():
            self._committed[k] = tuple(rows)

    def fresh(self, key: Key) -> None:
        """Marks a group as new (its stream has just opened), unless it is already known."""
        if key not in self._committed and key not in self._pending:
            self._pending[key] = []

    def get(self, key: Key) -> list[Row]:
        """The group's rows as this batch changes them (empty if it does not exist yet)."""
        rows = self._pending.get(key)
        if rows is None:
            # The committed values stay as they were if the batch fails.
            columns = self.columns
            rows = self._pending[key] = [
                dict(zip(columns, values, strict=True)) for values in self._committed.get(key, ())
            ]
        return rows

    def version(self, key: Key) -> int:
        rows = self.get(key)
        return max((row["version"] for row in rows), default=0)

    def touched(self) -> Iterator[Row]:
        """Every row of every group this batch read or changed (replayed events included)."""
        for group in self._pending.values():
            yield from group

    def commit(self) -> list[Values]:
        """Keeps this batch's groups as they now are and returns the rows its events changed
        (replayed ones left out), ready to insert: one pass over the rows for both."""
        values, committed = self._values, self._committed
        changed: list[Values] = []
        for key, rows in self._pending.items():
            group = committed[key] = tuple(map(values, rows))
            committed.move_to_end(key)
            changed.extend(v for row, v in zip(rows, group, strict=True) if "_dirty" in row)
        self._pending.clear()
        while len(committed) > self.cache_size:
            committed.popitem(last=False)
        return changed

    def rollback(self) -> None:
        self._pending.clear()

    def clear(self) -> None:
        self._pending.clear()
        self._committed.clear()


def group_key(tenant_id: UUID, group_id: UUID) -> Key:
    return (tenant_id.int, group_id.int)


def touch(row: Row, position: int) -> None:
    row["version"] = position
    row["_dirty"] = True


def _stored(value: Any) -> Any:
    """A value read from ClickHouse as the folds hold it: ids as strings (see the module's
    docstring), times in UTC (results hold naive UTC times; inserting a naive time would read
    it as local time)."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
