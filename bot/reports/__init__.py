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
from bot.reports.summary import Summary, build_summary
from bot.reports.summary_view import render_summary

__all__ = [
    "Part",
    "Summary",
    "build_summary",
    "delivered_parts",
    "last_occurrence",
    "mark_sent",
    "owed",
    "record_part",
    "render_parts",
    "render_summary",
    "was_sent",
    "week_before",
]
