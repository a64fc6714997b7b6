"""Camera mail from someone hostile (issue 21), as the parser sees it: anyone on the internet can write to
the mailbox. A megabyte of nested MIME refused before the parser sees it, identity from the address and
never the display name, a bad charset costing only its text, no control or bidi character left in what a
person may be shown. (The same mail through the intake: test_mail_hostile_intake.py.)"""

from __future__ import annotations

import base64
import time

import pytest

from bot.cameras.mail.parse import parse_mail
from bot.cameras.mail.sample import camera_email, camera_jpeg
from tests.support.hostile_mail import (
    MB,
    SENDER,
    STATION,
    nested,
    text_and_photo,
    visible_junk,
    wide,
    with_from,
)

# ---- caps before parsing ----------------------------------------------------------------------------


def test_a_megabyte_of_nested_multipart_is_refused_well_under_a_second() -> None:
    raw = nested(900, MB)
    assert len(raw) >= MB - 100
    started = time.perf_counter()
    mail = parse_mail(raw, max_part_bytes=25 * MB)
    elapsed = time.perf_counter() - started
    assert mail.quarantine is not None and "depth" in mail.quarantine
    assert elapsed < 0.5, f"{elapsed:.2f} s"  # the parser, reached, took 28 s on this one
    assert mail.attachments == () and mail.sender == "x@y.example" and mail.subject == "nested"


def test_thousands_of_parts_are_refused_before_parsing() -> None:
    started = time.perf_counter()
    mail = parse_mail(wide(20_000), max_part_bytes=25 * MB)
    assert mail.quarantine is not None and "parts" in mail.quarantine
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "raw",
    [
        b"From: x@y.example\r\nSubject: " + b"a" * 300_000 + b"\r\n\r\nhi\r\n",  # one header line
        b"From: " + b"(" * 100_000 + b"x@y.example\r\nSubject: s\r\n\r\nhi\r\n",  # the address parser's bane
        b"From: x@y.example\r\n" + b"X-A: b\r\n" * 60_000 + b"\r\nhi\r\n",  # a header section of 500 KB
        b"From: x@y.example\r\nSubject: s\r\n" + b"X-Long: a\r\n " * 40_000 + b"\r\n\r\nhi\r\n",  # folded
    ],
    ids=["long header line", "nested comments", "many headers", "folded header"],
)
def test_oversized_headers_are_refused_before_parsing(raw: bytes) -> None:
    started = time.perf_counter()
    mail = parse_mail(raw, max_part_bytes=25 * MB)
    assert mail.quarantine is not None and "header" in mail.quarantine
    assert time.perf_counter() - started < 0.5


def test_an_honest_camera_mail_parses_as_before(leopard_jpeg: bytes) -> None:
    photo = camera_jpeg(leopard_jpeg, gps=STATION)
    raw = camera_email([("IMG_0001.JPG", photo), ("IMG_0002.JPG", photo)])
    started = time.perf_counter()
    mail = parse_mail(raw, max_part_bytes=25 * MB)
    assert time.perf_counter() - started < 0.5
    assert mail.quarantine is None and mail.error is None
    assert [a.filename for a in mail.images] == ["IMG_0001.JPG", "IMG_0002.JPG"]
    assert mail.images[0].data == photo
    assert (mail.sender, mail.battery, mail.signal) == (SENDER, "80%", "4/5")
    assert mail.subject.startswith("CAM-17 ")


# ---- identity from the address ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "address"),
    [
        ("cam17@cameras.example <mallory@evil.example>", "mallory@evil.example"),
        ('"cam17@cameras.example" <mallory@evil.example>', "mallory@evil.example"),
        ("=?utf-8?q?cam17=40cameras=2Eexample?= <mallory@evil.example>", "mallory@evil.example"),
        ("=?utf-8?q?cam17@cameras.example?= <mallory@evil.example>", "mallory@evil.example"),
        ("mallory@evil.example (cam17@cameras.example)", "mallory@evil.example"),
        ("cam17@cameras.example <mallory@evil.example> (cam17@cameras.example)", "mallory@evil.example"),
        ("cam17@cameras.example, mallory@evil.example", None),  # two authors: nobody's identity
        ("cams: cam17@cameras.example, mallory@evil.example;", None),  # a group
        ("<cam17@cameras.example> <mallory@evil.example>", None),
        ("cam17@cameras.example <>", None),
        ("cam17@cameras.example <mallory>", None),
    ],
)
def test_a_display_name_is_never_the_sender(header: str, address: str | None, leopard_jpeg: bytes) -> None:
    mail = parse_mail(with_from(camera_email([("IMG_1.JPG", leopard_jpeg)]), header), max_part_bytes=MB)
    assert mail.sender == address


def test_two_from_headers_are_nobodys_identity(leopard_jpeg: bytes) -> None:
    raw = camera_email([("IMG_1.JPG", leopard_jpeg)])
    mail = parse_mail(b"From: mallory@evil.example\r\n" + raw, max_part_bytes=MB)
    assert mail.sender is None


@pytest.mark.parametrize(
    ("header", "address"),
    [
        (f"CAM-17 <{SENDER}>", SENDER),
        (SENDER, SENDER),
        ('"Camera, 17" <CAM17@Cameras.Example>', SENDER),
        (f"{SENDER} (CAM-17)", SENDER),
        (f"=?utf-8?b?0JrQsNC80LXRgNCwIDE3?= <{SENDER}>", SENDER),
        (f"{SENDER} <{SENDER}>", SENDER),  # the display name says what the address says: fine
        (f"Trail cam: CAM-17 <{SENDER}>", SENDER),  # sloppy firmware: an unquoted colon
    ],
)
def test_honest_from_headers_give_the_address(header: str, address: str, leopard_jpeg: bytes) -> None:
    mail = parse_mail(with_from(camera_email([("IMG_1.JPG", leopard_jpeg)]), header), max_part_bytes=MB)
    assert mail.sender == address and mail.forged is None


# ---- charsets and characters ------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["idna", "undefined", "x-no-such-charset", "utf-16", "hex", "punycode"])
def test_an_unreadable_text_part_costs_only_that_part(charset: str, leopard_jpeg: bytes) -> None:
    mail = parse_mail(text_and_photo(charset, leopard_jpeg), max_part_bytes=MB)
    assert mail.error is None and len(mail.images) == 1 and mail.images[0].data == leopard_jpeg
    assert not visible_junk(mail.text)


@pytest.mark.parametrize("encoded", [True, False], ids=["encoded word", "raw bytes"])
def test_control_and_bidi_characters_are_gone_from_what_a_person_may_read(
    encoded: bool, leopard_jpeg: bytes
) -> None:
    hostile = "CAM-17\x00\x07\x1b[31m red \u202egpj.exe\u200b\u00ad\u2066x\u2069\x85\u2028end"
    raw = camera_email([("IMG\u202e1.JPG", leopard_jpeg)])
    if encoded:
        subject = b"=?utf-8?b?" + base64.b64encode(hostile.encode()) + b"?="
    else:
        subject = hostile.encode().replace(b"\x00", b"")  # no NUL in a raw header; the rest as sent
    head, sep, rest = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    lines = [b"Subject: " + subject if ln.startswith(b"Subject:") else ln for ln in head.splitlines()]
    mail = parse_mail(b"\r\n".join(lines) + sep + rest, max_part_bytes=MB)
    for text in (mail.subject, *(a.filename for a in mail.attachments)):
        assert not visible_junk(text), text
    assert mail.subject.startswith("CAM-17") and mail.subject.endswith("end") and "gpj.exe" in mail.subject
    assert [a.filename for a in mail.images] == ["IMG1.JPG"]


# ---- the parse budget -------------------------------------------------------------------------------


def test_a_parse_over_its_time_budget_is_quarantined(
    monkeypatch: pytest.MonkeyPatch, leopard_jpeg: bytes
) -> None:
    """The caps keep the parser's work linear; the clock is the last word on a shape nobody foresaw."""
    from bot.cameras.mail import limits

    monkeypatch.setattr(limits, "PARSE_SECONDS", -1.0)  # already over when the first chunk is fed
    mail = parse_mail(camera_email([("IMG_1.JPG", leopard_jpeg)]), max_part_bytes=MB)
    assert mail.quarantine == "parsing took over -1 s" and mail.images == []
    assert mail.sender == SENDER and mail.subject.startswith("CAM-17")


def test_parts_decoding_to_more_than_the_budget_are_quarantined() -> None:
    from bot.cameras.mail.limits import Budget, OverBudget

    budget = Budget.start(raw_size=1000)
    budget.spend(2 * 1000)  # as much as base64 could ever give back, and then some
    with pytest.raises(OverBudget, match="decode"):
        budget.spend(2**20 + 1)


# ---- what the provider vouches for (Authentication-Results) -----------------------------------------


GMAIL = "mx.google.com"


@pytest.mark.parametrize(
    ("results", "passes"),
    [
        (
            f"{GMAIL}; dkim=pass header.i=@cameras.example; spf=pass smtp.mailfrom={SENDER}; "
            "dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=cameras.example",
            True,
        ),
        (
            f"{GMAIL}; spf=pass (google.com: domain of {SENDER} designates 1.2.3.4) smtp.mailfrom={SENDER}",
            True,
        ),
        (f"{GMAIL}; dkim=pass header.d=mail.cameras.example", True),  # relaxed alignment
        (f"{GMAIL}; dmarc=fail header.from=cameras.example; spf=softfail smtp.mailfrom={SENDER}", False),
        (f"{GMAIL}; spf=pass smtp.mailfrom=mallory@evil.example; dkim=pass header.d=evil.example", False),
        (f"{GMAIL}; dmarc=pass header.from=evil.example", False),
        ("mx.evil.example; dmarc=pass header.from=cameras.example", False),  # another server's claim
        (f"{GMAIL}; dkim=pass header.d=example", False),  # a bare top-level domain aligns with nothing
        ("", False),
        ("mxback7.mail.yandex.net; dmarc=pass header.from=cameras.example", False),  # not under mx.google.com
        ("evilmx.google.com.example; dmarc=pass header.from=cameras.example", False),
    ],
)
def test_only_the_named_servers_pass_for_the_from_domain_vouches(results: str, passes: bool) -> None:
    from bot.cameras.mail.sender import vouched

    assert vouched(results, GMAIL, SENDER) is passes


def test_only_the_topmost_authentication_results_is_read(leopard_jpeg: bytes) -> None:
    """Headers below the provider's own are whatever the sender wrote."""
    raw = camera_email([("IMG_1.JPG", leopard_jpeg)])
    ours = f"Authentication-Results: {GMAIL}; dmarc=fail header.from=cameras.example\r\n".encode()
    theirs = f"Authentication-Results: {GMAIL}; dmarc=pass header.from=cameras.example\r\n".encode()
    mail = parse_mail(ours + theirs + raw, max_part_bytes=MB)
    assert mail.auth_results is not None and "dmarc=fail" in mail.auth_results


def test_a_provider_naming_each_front_server_is_matched_by_its_domain() -> None:
    from bot.cameras.mail.sender import vouched

    results = "mxback7.mail.yandex.net; spf=pass (mail.yandex.net: domain ok) smtp.mailfrom=cameras.example"
    assert vouched(results, "yandex.net", SENDER) and not vouched(results, "evil.net", SENDER)
