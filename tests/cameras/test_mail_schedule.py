"""The first mailbox poll survives a slow start.

The mailbox jobs are added when the application is built, before the scheduler starts. A repeating
job whose first run falls before the start is moved by APScheduler's interval trigger to the next whole
interval (60 s in production), and a late one-off run is dropped as misfired: on a loaded server whose
start took more than a second, the first camera photo waited a whole interval for no reason.
"""

from __future__ import annotations

import asyncio

from bot.app import build_application
from bot.config import Settings
from handlers.mailboxes import schedule
from tests.support.mailserver import ImapServer, imap_fixture  # noqa: F401 - the fixture
from tests.support.sightings_world import NoDetector


async def test_a_first_poll_due_before_a_slow_start_still_runs(settings: Settings, imap: ImapServer) -> None:
    app = build_application(imap.settings(settings, mail_poll_seconds=3600), NoDetector())
    jobs = app.job_queue
    assert jobs is not None
    for job in jobs.jobs():  # whatever build_application scheduled: only the mailbox's jobs matter here
        job.schedule_removal()
    ran = asyncio.Event()

    async def polled(_context: object) -> None:
        ran.set()

    assert schedule(app)
    for job in jobs.jobs():
        job.callback = polled  # the schedule is the subject, not the poll
    await asyncio.sleep(2.5)  # a start slower than the 1 s after which the first poll was due
    await app.initialize()
    await jobs.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=60)
    finally:
        await jobs.stop(wait=False)
        await app.shutdown()
