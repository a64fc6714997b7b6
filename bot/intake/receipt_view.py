"""The ranger's receipt for a photo or clip: what the detector saw, where the sighting is, what is
still wanted (a place), and warnings about the camera's clock or what the caption said. Pure: words
from a Receipt, no database, no Bot API (handlers/photos.py sends it, one per message or per album)."""

from __future__ import annotations

import html

from bot.geo import format_point
from bot.intake.kinds import kind_word
from bot.intake.types import ForwardOrigin, Receipt
from bot.media import DEFAULT_ZONE, clock_warning, local_time
from bot.people import Audience
from bot.text import t


def forward_line(lang: str, origin: ForwardOrigin, audience: Audience | None) -> str:
    """Where a forward came from: its kind and date for everyone, its name or title only for a reader
    the audience gate lets read free text (a channel's title can name a place)."""
    name = audience.free_text(origin.name) if audience else None
    when = local_time(origin.date, audience.zone if audience else DEFAULT_ZONE)
    kind = t(lang, f"forward.kind.{origin.kind}")
    if name:
        return t(lang, "forward.from_named", kind=kind, name=html.escape(name), time=when)
    return t(lang, "forward.from", kind=kind, time=when)


def receipt_text(
    lang: str, r: Receipt, pairing_minutes: int, *, ask: bool = True, audience: Audience | None = None
) -> str:
    if r.duplicate:
        key = "receipt.duplicate" if r.media == "photo" else "receipt.duplicate_video"
        return t(lang, key, id=r.sighting_id)
    det = r.detection
    assert det is not None
    # Words for the kind, never the model's label; the one figure beside them is the leopard score.
    kind, score = det.kind, f"{det.score:.2f}"
    if kind == "leopard":
        lines = [t(lang, "receipt.leopard", id=r.sighting_id, score=score)]
    elif det.alert_worthy:
        lines = [t(lang, "receipt.kind_alerted", id=r.sighting_id, kind=kind_word(lang, kind), score=score)]
    else:
        lines = [t(lang, "receipt.kind", id=r.sighting_id, kind=kind_word(lang, kind), score=score)]
    if r.frame_seconds is not None:  # a video: which of its frames the line above is about
        second = f"{r.frame_seconds:.1f}"
        if det.alert_worthy:
            word = kind_word(lang, kind)
            lines.append(t(lang, "receipt.video_kind", kind=word, seconds=second, score=score))
        else:
            lines.append(t(lang, "receipt.video_other", frames=r.frames, seconds=second))
    if r.replaces_id is not None:
        lines.append(t(lang, "receipt.replaces", old=r.replaces_id))
    if r.forward is not None:
        lines.append(forward_line(lang, r.forward, audience))
        lines.append(t(lang, "receipt.reported" if r.reported else "receipt.forward_observer"))
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
    elif ask and r.forward is not None:  # the ranger's own place would not be the photo's
        lines.append(t(lang, "receipt.forward_no_place"))
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
