"""/settings and /areas alone show the group's current values, then how to change them."""

from __future__ import annotations

from tests.conftest import Team


async def test_settings_alone_shows_the_current_values(team: Team) -> None:
    await team.say(team.admin, "/settings summary 4 18", team.group)
    await team.say(team.admin, "/settings lang ru", team.group)
    text = (await team.say(team.admin, "/settings", team.group))["text"]
    assert "Язык: ru" in text and "Часовой пояс: Asia/Aqtau" in text and "Участки: все участки" in text
    assert "Еженедельная сводка: пятница, 18:00" in text
    assert text.rstrip().endswith("ДЕНЬ_НЕДЕЛИ(0=пн) ЧАС")  # then how to change them
    # A wrong argument still gets the usage alone.
    wrong = (await team.say(team.admin, "/settings tz Mars/Base", team.group))["text"]
    assert wrong.startswith("Использование: /settings") and "Язык:" not in wrong


async def test_areas_alone_shows_what_the_group_hears_of(team: Team) -> None:
    assert "all areas" in (await team.say(team.admin, "/areas", team.group))["text"]
    await team.say(team.admin, "/areas UST KZS", team.group)
    text = (await team.say(team.admin, "/areas", team.group))["text"]
    assert text.startswith("Alerts for: KZS, UST.") and "Usage: /areas" in text
