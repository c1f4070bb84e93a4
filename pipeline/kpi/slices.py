"""The group's records cut into slices (properties, departments, handlers, staff) for the KPIs.

A group's weekly report computes the KPIs of about 1,400 slices. Each slice answers what
compute_set asks of a Records (`between`, `open_complaints_at`), but from the group's windows: the
group's records in a window (sorted once, two bisections) are dealt out to all the slices in one
pass, the first time any slice asks for that window. A slice that kept its own records would scan
them once for every window it is asked about: 47 million lookups in a group's weekly report.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from pipeline.domain import open_span
from pipeline.kpi.core import Records

Owners = Callable[[dict], Iterable]  # a record → the slices it belongs to (none, one or more)


class Partition:
    """The records of `data` dealt out to slices: owners[register](record) names a record's slices;
    a register without an entry has no records in any slice."""

    def __init__(self, data: Records, owners: dict[str, Owners]):
        self.data, self.owners = data, owners
        self._windows: dict[tuple, dict] = {}
        self._open: tuple[dict, dict] | None = None

    def slice(self, name) -> Slice:
        return Slice(self, name)

    def window(self, register: str, key: str, start: datetime, stop: datetime, where: str | None) -> dict:
        """Slice name → its records of data.between(register, key, start, stop, where), in that order."""
        slot = (register, key, start, stop, where)
        dealt = self._windows.get(slot)
        if dealt is None:
            dealt = self._windows[slot] = defaultdict(list)
            owners = self.owners.get(register)
            if owners is not None:
                for r in self.data.between(register, key, start, stop, where):
                    for name in owners(r):
                        dealt[name].append(r)
        return dealt

    def open_at(self, name, stop: datetime) -> int:
        """The slice's complaints open at `stop`, as Records.open_complaints_at counts them: those
        received before it less those whose open span (domain.open_span) ended before it (two
        bisections of the slice's sorted dates, dealt out in one pass the first time)."""
        if self._open is None:
            received, done = defaultdict(list), defaultdict(list)
            owners = self.owners.get("complaints")
            for c in self.data.complaints if owners else ():
                got, ended = open_span(c, "complaints")
                if got is not None:
                    for slice_name in owners(c):
                        received[slice_name].append(got)
                        if ended is not None:
                            done[slice_name].append(ended)
            for dates in (*received.values(), *done.values()):
                dates.sort()
            self._open = received, done
        received, done = self._open
        return bisect_left(received.get(name, ()), stop) - bisect_left(done.get(name, ()), stop)


class Slice:
    """One slice of a Partition, standing in for a Records of its own records in compute_set.
    The lists it returns are shared with the partition: read them, never change them."""

    def __init__(self, partition: Partition, name):
        self.partition, self.name = partition, name

    def between(
        self, register: str, key: str, start: datetime, stop: datetime, where: str | None = None
    ) -> list[dict]:
        return self.partition.window(register, key, start, stop, where).get(self.name, [])

    def open_complaints_at(self, stop: datetime) -> int:
        return self.partition.open_at(self.name, stop)


def _one(field: str) -> Owners:
    """Records belong to the slice named by their field `field` (none if it is blank)."""

    def owners(r: dict) -> tuple:
        name = r.get(field)
        return (name,) if name else ()

    return owners


def by_property(data: Records) -> Partition:
    """Every record under its property (domain.attribute has given feedback naming none its
    complaint's, or the rules have set it aside)."""

    def own(r: dict) -> tuple:
        return (r.get("_property"),)

    return Partition(
        data, dict.fromkeys(("complaints", "callbacks", "reinspections", "repairs", "feedback"), own)
    )


class Complaints:
    """The complaints by (property, number), to find the complaints a callback or feedback follows."""

    def __init__(self, data: Records):
        self.first: dict[tuple, dict] = {}
        self.more: dict[tuple, list[dict]] = defaultdict(list)  # numbers given twice in a property
        for c in data.complaints:
            key = (c.get("_property"), c.get("id"))
            if key in self.first:
                self.more[key].append(c)
            else:
                self.first[key] = c

    def of(self, prop, number) -> list[dict]:
        """The complaints of that number in that property."""
        first = self.first.get((prop, number))
        return [] if first is None else [first, *self.more.get((prop, number), ())]


def by_complaint_field(data: Records, field: str, complaints: Complaints) -> tuple[list[str], Partition]:
    """Complaints by their `field` (department, handler), with the callbacks and feedback that
    follow them: those of a complaint's number in its property (domain.numbered)."""

    def names(followed: list[dict]) -> Iterable:
        return {name for c in followed if (name := c.get(field))}

    def callbacks(cb: dict) -> Iterable:
        return names(complaints.of(cb.get("_property"), cb.get("ref")))

    def feedback(f: dict) -> Iterable:
        return names(complaints.of(f.get("_property"), f.get("complaint_id")))

    slices = sorted({name for c in data.complaints if (name := c.get(field))})
    return slices, Partition(data, {"complaints": _one(field), "callbacks": callbacks, "feedback": feedback})


def by_field(data: Records, register: str, field: str) -> tuple[list[str], Partition]:
    """One register's records by their `field` (callbacks by staff, repairs by worker)."""
    names = sorted({r.get(field) for r in getattr(data, register) if r.get(field)})
    return names, Partition(data, {register: _one(field)})
