"""Every command-line error is one sentence on stderr naming the file, setting or user, with the fix, and
an exit code a script can use (0 ok, 1 failed, 2 usage, 130 interrupted); a traceback only with --debug."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.errors import CliError, guarded, user
from bot.cli.main import main
from emulator import BotApiEmulator
from tests.conftest import leopard_variants
from tests.support.bot_process import count, wait_until

ONE_LINE = 1


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without the developer's LW_ settings, plus the ones given."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("LW_")}, **settings}


def cli(*argv: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_run_with_the_bot_api_unreachable_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    env = clean_env(
        LW_TOKEN="123456:" + "A" * 35, LW_BASE_URL="http://127.0.0.1:9/bot", LW_DATA_DIR=str(tmp_path)
    )
    done = cli("--env-file", os.devnull, "run", env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == ONE_LINE, done.stderr  # PTB's own 100 lines of traceback are not shown
    assert lines[0].startswith("leopard-watch run: cannot reach the Bot API at http://127.0.0.1:9/bot")
    assert "LW_BASE_URL" in lines[0]
    debug = cli("--env-file", os.devnull, "run", "--debug", env=env)  # after the command too
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


async def test_run_with_a_refused_token_is_one_sentence(tmp_path: Path, emu: BotApiEmulator) -> None:
    env = clean_env(
        LW_TOKEN="123456:" + "B" * 35,  # well shaped, but not the emulator's
        LW_BASE_URL=emu.base_url,
        LW_BASE_FILE_URL=emu.base_file_url,
        LW_DATA_DIR=str(tmp_path),
        LW_LOG_LEVEL="WARNING",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run", env=env, stderr=subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 3  # run's own code for a refused token (docs/TELEGRAM.md)
    assert err.decode().strip().splitlines() == [
        "leopard-watch run: Telegram refused the token: put the token from @BotFather in LW_TOKEN (a revoked "
        "one stops working at once)"
    ]


def test_a_bad_date_says_the_form_expected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--env-file", os.devnull, "export", "--since", "2026-13-01"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == ONE_LINE and "usage:" not in err and "fromisoformat" not in err, err
    assert "'2026-13-01' is not a day: write it as YYYY-MM-DD" in err and "--since" in err


def test_since_after_until_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / ".env"
    env.write_text(f"LW_DATA_DIR={tmp_path}\n")
    sqlite3.connect(tmp_path / "leopard-watch.sqlite3").close()
    assert main(["--env-file", str(env), "export", "--since", "2026-05-02", "--until", "2026-05-01"]) == 2
    assert capsys.readouterr().err == (
        "leopard-watch export: --since 2026-05-02 is after --until 2026-05-01: swap them\n"
    )


def test_export_to_a_missing_folder_is_said_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    env.write_text(f"LW_DATA_DIR={tmp_path}\n")
    sqlite3.connect(tmp_path / "leopard-watch.sqlite3").close()
    out = tmp_path / "no-such-folder" / "x.csv"
    assert main(["--env-file", str(env), "export", "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"leopard-watch export: no folder {out.parent} for --out {out}: create it, or choose another\n"
    )


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["station", "add", "UST-04"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == ONE_LINE and "required: lat, lon" in err and "--help" in err, err
    assert main(["--env-file", str(tmp_path / "missing.env"), "doctor"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"leopard-watch: no settings file at {tmp_path / 'missing.env'} (--env-file); give the path "
        "of your .env or leave --env-file out\n"
    )


def _database(folder: Path) -> None:
    with sqlite3.connect(folder / "leopard-watch.sqlite3") as conn:
        conn.execute("CREATE TABLE sightings (id INTEGER)")


def test_backup_to_a_folder_it_cannot_write_names_it_the_user_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text(f"LW_DATA_DIR={tmp_path}\n")
    _database(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    # Tests may run as root, whom no mode stops: the folder is made unwritable where the command asks.
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else real(p, mode))
    assert main(["--env-file", str(env), "backup", str(locked / "copy.sqlite3")]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"leopard-watch backup: the backup folder {locked} is not writable by user {user()}: run "
        f"`sudo chown -R {user()} {locked}`, or run the command as the user who owns it\n"
    )
    assert list(locked.iterdir()) == []
    # A sub-folder that does not exist yet is judged by the folder it would be made in.
    assert main(["--env-file", str(env), "backup", str(locked / "2026" / "copy.sqlite3")]) == 1
    assert f"the backup folder {locked} is not writable" in capsys.readouterr().err
    assert list(locked.iterdir()) == []


def test_backup_into_a_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / ".env"
    env.write_text(f"LW_DATA_DIR={tmp_path}\n")
    _database(tmp_path)
    (tmp_path / "notes").write_text("a file")
    assert main(["--env-file", str(env), "backup", str(tmp_path / "notes" / "copy.sqlite3")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def _raises(exc: BaseException) -> Callable[[], int]:
    def action() -> int:
        raise exc

    return action


@pytest.mark.parametrize(
    ("exc", "code", "said"),
    [
        (KeyboardInterrupt(), 130, "interrupted (Ctrl-C) before it finished: run the command again"),
        (PermissionError(13, "Permission denied", "/srv/lw/data/photos"), 1, "permission denied on "
         "/srv/lw/data/photos for user {user}: run `sudo chown -R {user} /srv/lw/data/photos`"),
        (FileNotFoundError(2, "No such file", "/srv/x.csv"), 1, "/srv/x.csv does not exist: check the path"),
        (OSError(28, "No space left on device", "/srv/lw/data"), 1, "the disk of /srv/lw/data is full"),
        (sqlite3.OperationalError("database or disk is full"), 1, "the disk is full"),
        (CliError("said by the command", 2), 2, "said by the command"),
        (RuntimeError("boom"), 1, "unexpected RuntimeError: boom; run it again with --debug to see where"),
    ],
)  # fmt: skip
def test_errors_become_one_sentence_and_an_exit_code(
    exc: BaseException, code: int, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert guarded("import", _raises(exc)) == code
    err = capsys.readouterr().err
    assert err.startswith("leopard-watch import: " + said.format(user=user())), err
    assert err.count("\n") == ONE_LINE and "Traceback" not in err


def test_debug_shows_the_traceback_before_the_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert guarded("export", _raises(RuntimeError("boom")), debug=True) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last)")
    assert err.splitlines()[-1] == (
        "leopard-watch export: unexpected RuntimeError: boom; run it again with --debug to see where, and "
        "report it"
    )


def _default_sigint() -> None:
    # A shell starts background jobs with Ctrl-C ignored, and children inherit that: undo it, as a terminal's
    # foreground job has it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_an_interrupted_import_says_how_far_it_got_and_the_rerun_resumes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"LW_DATA_DIR={tmp_path / 'data'}\nLW_ADMIN_IDS=1\n")
    added = cli("--env-file", str(env_file), "station", "add", "UST-04", "43.21", "51.87", env=clean_env())
    assert added.returncode == 0, added.stderr
    card = tmp_path / "DCIM"
    card.mkdir()
    total = 40  # enough that the Ctrl-C after the second photo lands while the import still runs
    for i, jpeg in enumerate(leopard_variants(total)):
        (card / f"IMG_{i:04d}.JPG").write_bytes(jpeg)
    argv = [sys.executable, "-m", "bot.cli", "--env-file", str(env_file), "import", str(card)]
    argv += ["--station", "UST-04", "--workers", "2"]
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once; waited on through the database
        argv,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job: Ctrl-C reaches all
        preexec_fn=_default_sigint,
    )
    db = tmp_path / "data" / "leopard-watch.sqlite3"
    try:
        await wait_until(lambda: count(db, "SELECT COUNT(*) FROM sightings") >= 2, 120, "two photos imported")
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the import and its detector workers
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    done = count(db, "SELECT COUNT(*) FROM sightings")
    assert last == (
        f"leopard-watch import: interrupted after {done} of {total} files from {card}; run the same "
        "command again to resume: files already imported are skipped"
    )
    rerun = cli("--env-file", str(env_file), "import", str(card), "--station", "UST-04", env=clean_env())
    assert rerun.returncode == 0, rerun.stderr
    assert count(db, "SELECT COUNT(*) FROM sightings") == total
