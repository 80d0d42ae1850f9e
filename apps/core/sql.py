"""Statements compiled once per process and run with fresh values bound.

Some statements run often with only a value or two changing (the signed-in user's id; the ids and the clock
of a visit-rule recompute), and building them with the ORM costs more than running them. Build the query
once with a placeholder where each changing value goes, keep its SQL and parameters, and bind the values
per run.

A ``Placeholder`` stands in for a value in the parameters. When the ORM would refuse an object there (a
primary-key filter converts its value to an int), give it a ``sentinel``: an int no real row has, found
again in the compiled parameters by value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any


class Placeholder:
    """A value bound at run time, named as ``Statement.bind`` takes it."""

    def __init__(self, name: str, *, sentinel: int | None = None) -> None:
        self.name = name
        self.sentinel = sentinel

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def matches(self, param: Any) -> bool:
        return param is self or (self.sentinel is not None and type(param) is int and param == self.sentinel)


@dataclass(frozen=True)
class Statement:
    """Compiled SQL, its parameters, and where each placeholder sits among them."""

    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]  # (index in params, placeholder name)

    @classmethod
    def compile(cls, sql: str, params, placeholders: tuple[Placeholder, ...] = ()) -> Statement:
        params = tuple(params)
        slots = tuple((index, ph.name) for index, param in enumerate(params)
                      for ph in placeholders if ph.matches(param))
        return cls(sql=sql, params=params, slots=slots)

    def bind(self, **values: Any) -> list:
        """The parameters with each placeholder replaced by its value (every placeholder must be given)."""
        params = list(self.params)
        for index, name in self.slots:
            params[index] = values[name]
        return params


class StatementCache:
    """Compiled statements by key (what the SQL depends on). ``maxsize`` bounds it: when full, it starts over
    (the keys of a new day, new rules or another database replace the old ones)."""

    def __init__(self, maxsize: int = 64) -> None:
        self.maxsize = maxsize
        self._found: dict[Hashable, Statement] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Statement]) -> Statement:
        found = self._found.get(key)
        if found is None:
            found = build()
            with self._lock:
                if len(self._found) >= self.maxsize:
                    self._found.clear()
                self._found[key] = found
        return found

    def __len__(self) -> int:
        return len(self._found)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()
