"""Every cell of the table of powers (docs/ROLES.md) holds, in the code and through the database; and
invites die with their maker's powers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.people.access import POWERS, Access, Action, Role, Target, invite_needs
from storage.db import Database, iso, utcnow

DOC = Path(__file__).resolve().parents[2] / "docs" / "ROLES.md"
ADMIN, COORD, RANGER, OTHER_COORD, OTHER_RANGER = 1, 10, 20, 11, 21
ACTORS = {"admin": ADMIN, "coordinator": COORD, "ranger": RANGER}
ROLES = {"admin": Role.ADMIN, "coordinator": Role.COORDINATOR, "ranger": Role.RANGER}
TARGETS = {"ranger": OTHER_RANGER, "coordinator": OTHER_COORD, "admin": 2}


def doc_cells() -> dict[tuple[str, str, str], bool]:
    cells = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\| (admin|coordinator|ranger) \| (\w+) \|" + r" (yes|no) \|" * 3, line)
        if m:
            actor, action, *answers = m.groups()
            for target, answer in zip(("ranger", "coordinator", "admin"), answers, strict=True):
                cells[(actor, action, target)] = answer == "yes"
    return cells


CELLS = doc_cells()


def test_the_document_and_the_code_hold_the_same_table() -> None:
    assert len(CELLS) == 3 * 4 * 3
    in_code = {(str(a.name.lower()), str(act), str(t)) for a, act, t in POWERS}
    assert {k for k, yes in CELLS.items() if yes} == in_code


@pytest.fixture
async def access(tmp_path: Path) -> AsyncIterator[Access]:
    db = await Database(tmp_path / "lw.sqlite3").open()
    now = iso(utcnow())
    for uid, role in ((COORD, "coordinator"), (OTHER_COORD, "coordinator"), (RANGER, "ranger"),
                      (OTHER_RANGER, "ranger")):  # fmt: skip
        await db.execute(
            "INSERT INTO rangers (user_id, name, role, status, created_at) VALUES (?, ?, ?, 'active', ?)",
            (uid, f"p{uid}", role, now),
        )
    yield Access(db, frozenset({ADMIN, 2}))
    await db.close()


@pytest.mark.parametrize("cell", sorted(k for k in CELLS if k[1] != "invite"), ids=lambda k: "-".join(k))
async def test_each_status_cell_through_the_database(access: Access, cell: tuple[str, str, str]) -> None:
    actor, action, target = cell
    status = {"suspend": "suspended", "remove": "removed", "restore": "active"}[action]
    target_id = TARGETS[target]
    if action == "restore" and target != "admin":  # something to restore: suspended by an admin first
        assert (await access.set_status(ADMIN, target_id, "suspended")).done
    before = await access.role(target_id)
    only_from = "suspended" if action == "restore" else None
    change = await access.set_status(ACTORS[actor], target_id, status, only_from=only_from)
    assert change.done is CELLS[cell] and change.refused is not CELLS[cell]
    after = await access.role(target_id)
    if CELLS[cell]:
        assert after == {"suspended": Role.SUSPENDED, "removed": Role.OUTSIDER}.get(status, ROLES[target])
    else:
        assert after == before


@pytest.mark.parametrize("cell", sorted(k for k in CELLS if k[1] == "invite"), ids=lambda k: "-".join(k))
async def test_each_invite_cell(access: Access, cell: tuple[str, str, str]) -> None:
    actor, _, target = cell
    if target == "admin":  # no invite makes an admin
        assert not CELLS[cell]
        with pytest.raises(ValueError):
            invite_needs(target)
        return
    allowed = await access.role(ACTORS[actor]) >= invite_needs(target)
    assert allowed is CELLS[cell]
    # And a link made anyway (an older version, a demoted maker) is not honoured.
    inv = await access.create_invite(ACTORS[actor], target)
    got = await access.redeem(inv.code, 500, "new", None, None)
    assert (got is not None) is CELLS[cell]


@pytest.mark.parametrize("status", ["suspended", "removed"])
async def test_suspending_or_removing_revokes_the_unused_invites_of_that_person(
    access: Access, status: str
) -> None:
    used = await access.create_invite(COORD, "ranger")
    assert await access.redeem(used.code, 600, "friend", None, None) == "ranger"
    unused = [await access.create_invite(COORD, "ranger") for _ in range(2)]
    change = await access.set_status(ADMIN, COORD, status)
    assert change.done and change.revoked_invites == 2
    for inv in unused:
        assert await access.redeem(inv.code, 700, "someone", None, None) is None
    # She cannot come back through her own link, nor let a friend in after being restored.
    if status == "suspended":
        assert (await access.set_status(ADMIN, COORD, "active", only_from="suspended")).done
        assert await access.redeem(unused[0].code, 701, "friend", None, None) is None
    assert await access.role(600) == Role.RANGER  # what was done with a used link stands


async def test_a_coordinator_cannot_touch_another_coordinator_or_an_admin(access: Access) -> None:
    for target in (OTHER_COORD, ADMIN):
        for status in ("suspended", "removed"):
            change = await access.set_status(COORD, target, status)
            assert change.refused and not change.done
    assert await access.role(OTHER_COORD) == Role.COORDINATOR


async def test_an_invite_dies_when_its_maker_loses_the_power_another_way(tmp_path: Path) -> None:
    db = await Database(tmp_path / "lw.sqlite3").open()
    try:
        before = Access(db, frozenset({ADMIN}))
        inv = await before.create_invite(ADMIN, "coordinator")
        after = Access(db, frozenset())  # taken off LW_ADMIN_IDS
        assert await after.redeem(inv.code, 800, "x", None, None) is None
    finally:
        await db.close()


def test_actions_and_targets_are_what_the_document_names() -> None:
    assert {a for _, a, _ in CELLS} == {str(a) for a in Action}
    assert {t for _, _, t in CELLS} == {str(t) for t in Target}
