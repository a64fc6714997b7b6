"""/sighting N: any sighting's photo and caption on request, with the asker's view of the place."""

from __future__ import annotations

from tests.conftest import Team


async def test_sighting_shows_photo_box_and_caption_where_asked(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    await team.photo(team.ranger, leopard_jpeg, caption="43.21234, 51.87654")  # #1, alerted
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await team.photo(team.ranger, jackal_jpeg, caption="43.3, 51.9")  # #2, the model passed it over

    shown = await team.say(team.admin, "/sighting 1", team.group)
    assert (
        shown["method"] == "sendPhoto" and "Leopard" in shown["caption"] and "sighting #1" in shown["caption"]
    )
    assert "43.2" in shown["caption"] and "43.21234" not in shown["caption"]  # untrusted group: rounded
    assert "rv:1:confirmed" in str(shown["reply_markup"])  # alerted here, so the buttons work here
    assert team.emu.file_bytes(shown["photo"][-1]["file_id"])[:2] == b"\xff\xd8"

    other = await team.say(team.admin, "/sighting #2", team.group)
    # The kind in words (issue 24), never the model's ImageNet guess ("coyote" for a jackal).
    assert other["caption"].startswith("📷 Another animal · sighting #2: no leopard detected")
    assert "reply_markup" not in other and "↔" not in other["caption"]

    # Privately: an admin sees the exact place; a coordinator the rounded one; no buttons there.
    private = await team.say(team.admin, "/sighting 1")
    assert "43.21234" in private["caption"] and "reply_markup" not in private
    coordinator = team.emu.user(700_050, "Dana")
    await team.invite(coordinator, "coordinator")
    assert "43.21234" not in (await team.say(coordinator, "/sighting 1"))["caption"]


async def test_sighting_explains_what_it_cannot_do(team: Team, jackal_jpeg: bytes) -> None:
    await team.photo(team.ranger, jackal_jpeg)
    assert "Usage: /sighting 12" in (await team.say(team.admin, "/sighting"))["text"]
    assert "Usage" in (await team.say(team.admin, "/sighting one", team.group))["text"]
    assert (await team.say(team.admin, "/sighting 99"))["text"] == "There is no sighting #99."
    assert (await team.say(team.ranger, "/sighting 1"))["text"] == "Only coordinators can do this."
    # The photo file lost from disk: the record still answers, as text.
    sha = await team.services.db.scalar("SELECT photo_sha256 FROM sightings WHERE id = 1")
    team.services.photos.path_for(sha).unlink()
    reply = await team.say(team.admin, "/sighting 1", team.group)
    assert reply["method"] == "sendMessage" and "sighting #1" in reply["text"]
