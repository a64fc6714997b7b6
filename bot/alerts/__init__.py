"""Alerts: which groups hear of a leopard event, the alert they see, the coordinators' reviews, escalations,
movement."""

from bot.alerts.escalations import Escalation, escalate
from bot.alerts.events import build_alert, build_view
from bot.alerts.movement import Placed, in_movement, load_placed, rounding_note
from bot.alerts.reviews import (
    DECISIONS,
    alerted_here,
    alerted_in,
    decide,
    may_decide,
    record_refusal,
    refresh_movement_alerts,
    review_status,
)
from bot.alerts.routing import UNKNOWN_CAMERA, enqueue_for_event, find_burst_event
from bot.alerts.view import photo_with_boxes

__all__ = [
    "DECISIONS",
    "UNKNOWN_CAMERA",
    "Escalation",
    "Placed",
    "alerted_here",
    "alerted_in",
    "build_alert",
    "build_view",
    "decide",
    "enqueue_for_event",
    "escalate",
    "find_burst_event",
    "in_movement",
    "load_placed",
    "may_decide",
    "photo_with_boxes",
    "record_refusal",
    "refresh_movement_alerts",
    "review_status",
    "rounding_note",
]
