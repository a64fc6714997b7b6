"""PollingHealth: a 409 of another poller or of a webhook told to the admins once per episode, and the
application stopped after conflict_minutes of it; a refused token stops it at once."""

from __future__ import annotations

from telegram.error import Conflict, InvalidToken, NetworkError

from bot.botapi.polling import CONFLICT_QUIET, EXIT_CONFLICT, EXIT_TOKEN, PollingHealth

POLLER = Conflict(
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
HOOK = Conflict(
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watched(minutes: float = 5.0) -> tuple[PollingHealth, Clock, list[str], list[int]]:
    clock, told, stops = Clock(), [], []
    health = PollingHealth(minutes, clock)

    async def notify(text: str, key: str) -> None:
        told.append(text)

    health.notify = notify
    health.stop = lambda: stops.append(health.exit_code)
    return health, clock, told, stops


async def test_two_pollers_taking_turns_are_told_once_and_stopped_after_the_minutes() -> None:
    health, clock, told, stops = watched(5.0)
    await health.failed(POLLER)  # one 409 is what a doctor's getUpdates costs: not told yet
    assert told == []
    for _ in range(8):  # turns: a poll answers between two 409s, 30 s apart
        clock.now += 30
        health.answered()
        await health.failed(POLLER)
    assert len(told) == 1 and "Another process is polling" in told[0]
    assert stops == []
    for _ in range(4):
        clock.now += 30
        health.answered()
        await health.failed(POLLER)
    assert stops == [EXIT_CONFLICT] and health.exit_code == EXIT_CONFLICT
    assert len(told) == 1


async def test_a_webhook_is_told_at_its_first_409_and_a_quiet_gap_ends_the_episode() -> None:
    health, clock, told, stops = watched(5.0)
    await health.failed(HOOK)
    assert len(told) == 1 and told[0].startswith("A webhook is set")
    clock.now += 240
    health.answered()
    clock.now += CONFLICT_QUIET + 1
    health.answered()  # deleted: the episode is over
    await health.failed(HOOK)
    clock.now += 240
    await health.failed(HOOK)
    assert stops == []  # 4 min of the new episode, not 8 of two


async def test_network_errors_are_no_conflict_and_a_refused_token_stops_at_once() -> None:
    health, clock, told, stops = watched(0.01)
    for _ in range(5):
        clock.now += 60
        await health.failed(NetworkError("Bad Gateway"))
    assert told == [] and stops == []
    health.revoked(InvalidToken("Unauthorized"))
    health.revoked(InvalidToken("Unauthorized"))
    assert stops == [EXIT_TOKEN]
