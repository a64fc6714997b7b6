"""Every update the bot has answered is marked done in the inbox, so a restart does not answer it again
(a command that ends the handler chain, like /week or /export, included)."""

from __future__ import annotations

from tests.conftest import GROUP, Team, eventually


async def test_commands_that_end_the_handler_chain_are_marked_done(team: Team) -> None:
    for command in ("/week", "/month", "/export csv"):
        before = len(team.emu.sent(GROUP))
        await team.emu.send_text(team.admin, command, team.group)
        await team.emu.wait_sent(GROUP, before + 1, timeout=30)
    db = team.services.db
    # Answered and then never marked done, they would be replayed (sent twice) after a restart.
    await eventually(lambda: db.scalar("SELECT COUNT(*) = 0 FROM inbox WHERE done_at IS NULL"))
