"""The ranger's receipt for a photo or clip: what the detector saw, where the sighting is, what is
still wanted (a place), and warnings about the camera's clock or what the caption said. Pure: words
from a Receipt, no database, no Bot API (handlers/photos.py sends it, one per message or per album)."""

from __future__ import annotations

import html

from bot.geo import format_point
from bot.intake.types import Receipt
from bot.media import DEFAULT_ZONE, clock_warning
from bot.text import t


def receipt_text(lang: str, r: Receipt, pairing_minutes: int, *, ask: bool = True) -> str:
    if r.duplicate:
        key = "receipt.duplicate" if r.media == "photo" else "receipt.duplicate_video"
        return t(lang, key, id=r.sighting_id)
    det = r.detection
    assert det is not None
    if det.leopard:
        lines = [t(lang, "receipt.leopard", id=r.sighting_id, score=f"{det.score:.2f}")]
    elif det.label == "snow leopard":
        lines = [t(lang, "receipt.snow_leopard", id=r.sighting_id, score=f"{det.label_score:.2f}")]
    else:
        lines = [
            t(
                lang,
                "receipt.other",
                id=r.sighting_id,
                label=html.escape(det.label),
                score=f"{det.label_score:.2f}",
            )
        ]
    if r.frame_seconds is not None:  # a video: which of its frames the line above is about
        second = f"{r.frame_seconds:.1f}"
        if det.alert_worthy:
            lines.append(t(lang, "receipt.video_leopard", seconds=second, score=f"{det.label_score:.2f}"))
        else:
            lines.append(t(lang, "receipt.video_other", frames=r.frames, seconds=second))
    if r.station:
        lines.append(t(lang, "receipt.station", code=html.escape(r.station)))
    elif r.point:
        lines.append(
            t(
                lang,
                "receipt.place",
                point=format_point(r.point),
                source=t(lang, f"source.{r.location_source}"),
            )
        )
    elif ask and not r.already_asked:
        lines.append(t(lang, "receipt.ask_location", minutes=pairing_minutes))
    elif ask:
        lines.append(t(lang, "receipt.waiting_location"))
    clock = clock_warning(lang, r.time, DEFAULT_ZONE)  # read back in the zone camera clocks are set to
    if clock:
        lines.append(clock)
    if any(n.startswith("bad_coordinates") for n in r.notes):
        lines.append(t(lang, "receipt.bad_coordinates"))
    for note in r.notes:
        if note.startswith("unknown_station:"):
            lines.append(t(lang, "error.unknown_station", code=html.escape(note.split(":", 1)[1])))
    return "\n".join(lines)
