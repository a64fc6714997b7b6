"""E-mails built the way generic 4G trail cameras send them, for the demo, the tests and bench/mail.py.

What such a camera sends (HC-940LTE-type firmware, Browning/Spypoint-style "send to e-mail"): a
multipart/mixed message from the camera's own address, the camera name (set in its menu) and the shot
time in the subject, a short text body with battery, signal and temperature, and the photo as a
base64 JPEG attachment whose EXIF holds DateTimeOriginal in the camera's local time and, on models
with a GPS receiver, the position.
"""

from __future__ import annotations

import io
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from PIL import Image

from bot.geo import Point


def camera_jpeg(
    base: bytes, *, taken: datetime | None = None, gps: Point | None = None, model: str = "HC-940LTE"
) -> bytes:
    """The photo re-saved with the EXIF a cellular camera writes (taken: naive camera-local time)."""
    image = Image.open(io.BytesIO(base)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Suntek", model  # Make, Model
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    if gps is not None:

        def dms(value: float) -> tuple[float, float, float]:
            # From whole hundredths of a second: 43.30 must not come out as 43° 17' 60.0".
            minutes, seconds = divmod(round(abs(value) * 360_000) / 100, 60)
            degrees, minutes = divmod(int(minutes), 60)
            return (float(degrees), float(minutes), round(seconds, 2))

        refs = ("N" if gps.lat >= 0 else "S", "E" if gps.lon >= 0 else "W")
        exif.get_ifd(0x8825).update({1: refs[0], 2: dms(gps.lat), 3: refs[1], 4: dms(gps.lon)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def camera_email(
    photos: list[tuple[str, bytes]],
    *,
    camera: str = "CAM-17",
    sender: str = "cam17@cameras.example",
    to: str = "leopard-cameras@example.org",
    sent: datetime | None = None,
    battery: int | None = 80,
    signal: str | None = "4/5",
    octet_stream: bool = False,
    message_id: str | None = None,
) -> bytes:
    """One camera e-mail with the given (file name, JPEG bytes) attachments."""
    msg = EmailMessage()
    msg["From"] = f"{camera} <{sender}>"
    msg["To"] = to
    when = sent or datetime.now().astimezone()
    msg["Date"] = format_datetime(when)
    msg["Subject"] = f"{camera} {when:%Y/%m/%d %H:%M:%S} PIR"
    msg["Message-ID"] = message_id or make_msgid(domain=sender.rsplit("@", 1)[-1])
    body = [f"Camera ID: {camera}", f"Date: {when:%Y/%m/%d %H:%M:%S}"]
    if battery is not None:
        body.append(f"Battery: {battery}%")
    if signal is not None:
        body.append(f"Signal: {signal}")
    body.append("Temperature: 12C")
    msg.set_content("\n".join(body) + "\n")
    for name, data in photos:
        maintype, subtype = ("application", "octet-stream") if octet_stream else ("image", "jpeg")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()
