"""The read side: the weekly summary (numbers, words, parts, schedule), its maps, and the exports."""

from bot.reports.parts import Part, render_parts
from bot.reports.schedule import (
    delivered_parts,
    last_occurrence,
    mark_sent,
    owed,
    record_part,
    was_sent,
    week_before,
)
from bot.reports.summary_view import period_bounds, time_basis

__all__ = [
    "Part",
    "delivered_parts",
    "last_occurrence",
    "mark_sent",
    "owed",
    "period_bounds",
    "record_part",
    "render_parts",
    "time_basis",
    "was_sent",
    "week_before",
]
