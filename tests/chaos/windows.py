"""Counting requests in sliding windows, as a provider that enforces a rule would.

Pure functions over a sorted list of arrival times (seconds, any origin).
"""

from __future__ import annotations

from collections.abc import Sequence


def worst_window(times: Sequence[float], span: float) -> int:
    """The largest number of arrivals in any closed window ``[t, t + span]``.

    Two pointers over the sorted times: each window worth checking starts at an arrival.
    """
    worst = 0
    start = 0
    for end, t in enumerate(times):
        while times[start] < t - span:
            start += 1
        worst = max(worst, end - start + 1)
    return worst


def utilisation(times: Sequence[float], tps: float) -> float:
    """Requests per second between the first and the last arrival, as a share of ``tps``
    (counting ``len - 1`` intervals, so a perfectly paced stream at ``tps`` gives 1.0)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0]) / tps


def worst_window_start(times: Sequence[float], span: float) -> float | None:
    """The first arrival of a window ``[t, t + span]`` holding :func:`worst_window` arrivals
    (``None`` without arrivals): where to look when a rule was broken."""
    worst, at, start = 0, None, 0
    for end, t in enumerate(times):
        while times[start] < t - span:
            start += 1
        if end - start + 1 > worst:
            worst, at = end - start + 1, times[start]
    return at
