"""Reporting periods: a month (``2026-11``), a quarter (``2026-Q4``) or a year (``2026``).

A period is a closed range of calendar days in local time. Figures that count what happened (visits made,
records created) count inside it; figures that count what stands (people on the register) count as at its
last day, or today while the period is running.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = {MONTH: gettext_lazy("Month"), QUARTER: gettext_lazy("Quarter"), YEAR: gettext_lazy("Year")}
_PATTERN = re.compile(r"^\s*(\d{4})(?:\s*-\s*(?:(Q|q)([1-4])|(\d{1,2})))?\s*$")


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period. ``key`` is its canonical spelling (``2026-Q4``), stored with every figure value."""

    start: date
    end: date  # inclusive
    kind: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-11``, ``2026-Q4`` or ``2026``; a clear Chinese error for anything else."""
        match = _PATTERN.match(text or "")
        if not match:
            raise ValidationError(_("“%(value)s” is not a period: write 2026-11 (a month), 2026-Q4 (a quarter) or 2026 (a year)."),
                                  code="period", params={"value": text})
        year = int(match.group(1))
        if match.group(3):
            return cls.quarter(year, int(match.group(3)))
        if match.group(4):
            month = int(match.group(4))
            if not 1 <= month <= 12:
                raise ValidationError(_("“%(value)s” is not a period: the month must be 1 to 12."), code="period",
                                      params={"value": text})
            return cls.month(year, month)
        return cls.year(year)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), MONTH)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls(date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]), QUARTER)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), YEAR)

    @classmethod
    def containing(cls, day: date, kind: str) -> Period:
        if kind == MONTH:
            return cls.month(day.year, day.month)
        if kind == QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        return cls.year(day.year)

    @classmethod
    def current(cls, kind: str = QUARTER) -> Period:
        return cls.containing(timezone.localdate(), kind)

    @property
    def key(self) -> str:
        if self.kind == MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return _("%(year)d-%(month)02d") % {"year": self.start.year, "month": self.start.month}
        if self.kind == QUARTER:
            return _("%(year)d Q%(quarter)d") % {"year": self.start.year, "quarter": (self.start.month - 1) // 3 + 1}
        return _("Year %(year)d") % {"year": self.start.year}

    def __str__(self) -> str:
        return self.key

    def previous(self) -> Period:
        return Period.containing(self.start - timedelta(days=1), self.kind)

    def next(self) -> Period:
        return Period.containing(self.end + timedelta(days=1), self.kind)

    def same_last_year(self) -> Period:
        return Period.containing(self.start.replace(year=self.start.year - 1), self.kind)

    def is_future(self, today: date | None = None) -> bool:
        return self.start > (today or timezone.localdate())

    def is_running(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.start <= today <= self.end

    def as_at(self, today: date | None = None) -> date:
        """The day a standing count is taken: the period's last day, or today while it runs."""
        today = today or timezone.localdate()
        return min(self.end, today)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes [start, end) in local time, for timestamp columns."""
        tz = timezone.get_current_timezone()
        return datetime.combine(self.start, time.min, tz), datetime.combine(self.end + timedelta(days=1), time.min, tz)

    def check_not_future(self) -> None:
        if self.is_future():
            raise ValidationError(_("The period %(period)s has not started yet."), code="future_period",
                                  params={"period": self.key})


def recent_periods(kind: str, count: int = 8, today: date | None = None) -> list[Period]:
    """The running period of ``kind`` and the ones before it, newest first (period choices)."""
    period = Period.containing(today or timezone.localdate(), kind)
    found = []
    for _i in range(count):
        found.append(period)
        period = period.previous()
    return found
