"""Orange's bulk capability window: only from 22:00 to 07:00, French time (seed 000).

The seed says "from 10 PM CET to 7 AM CET"; the emulator reads it as Europe/Paris wall-clock
time (CET in winter, CEST in summer), computed with the EU daylight-saving rule (from 01:00 UTC
on the last Sunday of March to 01:00 UTC on the last Sunday of October) so that no time zone
database is needed. The platform clock decides, so tests move a ``ManualClock``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

__all__ = ["WINDOW_END_HOUR", "WINDOW_MESSAGE", "WINDOW_START_HOUR", "in_window", "paris_time"]

WINDOW_START_HOUR = 22
WINDOW_END_HOUR = 7
WINDOW_MESSAGE = (
    "Execute those requests only on timeslots from 10 PM CET to 7 AM CET in order to NOT "
    "overload the whole business bandwidth during business hours."
)
"""The text of Orange's HTTP 405 outside the window (seed 000, verbatim)."""


def _last_sunday_1am_utc(year: int, month: int) -> datetime:
    first_of_next = datetime(year + (month == 12), month % 12 + 1, 1, 1, tzinfo=UTC)
    last_day = first_of_next - timedelta(days=1)
    return last_day - timedelta(days=(last_day.weekday() + 1) % 7)


def paris_time(ts: float) -> datetime:
    """The Europe/Paris wall-clock time at POSIX time ``ts`` (an aware datetime)."""
    utc = datetime.fromtimestamp(ts, UTC)
    summer = _last_sunday_1am_utc(utc.year, 3) <= utc < _last_sunday_1am_utc(utc.year, 10)
    return utc.astimezone(timezone(timedelta(hours=2 if summer else 1)))


def in_window(ts: float) -> bool:
    """Whether bulk capability requests are allowed at ``ts`` (22:00 <= Paris time < 07:00)."""
    hour = paris_time(ts).hour
    return hour >= WINDOW_START_HOUR or hour < WINDOW_END_HOUR
