"""The `leopard-watch` command: run, demo, detect (and more subcommands as they land)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path

from bot.cameras.mail import MailboxesError, accounts
from bot.cli import cameras as cameras_cli
from bot.cli import export as export_cli
from bot.cli import logs
from bot.cli import sd_import as import_cli
from bot.cli import stations as stations_cli
from bot.config import ConfigError, Settings
from bot.detection import ModelError
from bot.detection.model import OnnxLeopardDetector, UnreadableImage
from bot.media import iter_images
from storage.lock import AlreadyRunning, RunLock


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leopard-watch", description=__doc__)
    env_help = "settings file (default: .env in the current folder, if any); before or after a command"
    parser.add_argument("--env-file", default=None, help=env_help)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot against Telegram (needs LW_TOKEN)")
    sub.add_parser("demo", help="run the whole bot offline against the built-in Bot API emulator")
    p_detect = sub.add_parser("detect", help="detect leopards in image files or folders; JSON lines out")
    p_detect.add_argument("paths", nargs="+", type=Path)
    import_cli.add_parser(sub)
    export_cli.add_parser(sub)
    stations_cli.add_parser(sub)
    cameras_cli.add_parser(sub)
    sub.add_parser("doctor", help="check settings, database, model and the Bot API connection")
    p_backup = sub.add_parser("backup", help="consistent copy of the database while the bot runs")
    p_backup.add_argument(
        "dest", type=Path, nargs="?", help="file to write (default: a dated file in LW_DATA_DIR/backups)"
    )
    # Global options work after the subcommand too: each subparser knows them, without a default of its own
    # that would overwrite the one given before the subcommand.
    for subparser in sub.choices.values():
        subparser.add_argument("--env-file", default=argparse.SUPPRESS, help=env_help)
    args = parser.parse_args(argv)
    if args.env_file is None:
        args.env_file = ".env"  # read if it is there: the environment alone may hold every setting
    elif not Path(args.env_file).exists():  # /dev/null: explicitly no file
        print(f"leopard-watch: no settings file at {args.env_file} (--env-file); give the path of your .env "
              "or leave --env-file out", file=sys.stderr)  # fmt: skip
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "demo":
            return asyncio.run(_demo())
        if args.command == "detect":
            return detect_command(args.paths, load_settings(args.env_file))
        if args.command == "backup":
            settings = load_settings(args.env_file)
            return backup_command(settings, args.dest or _dated_backup(settings))
        if args.command == "doctor":
            from bot.cli.doctor import doctor

            return doctor(load_settings(args.env_file))
        # Export and import read their own settings; checked here first, so they refuse what every
        # other command refuses.
        if args.command == "export":
            load_settings(args.env_file)
            return export_cli.run(args)
        if args.command == "import":
            load_settings(args.env_file)
            return import_cli.run(args)
        if args.command == "station":
            load_settings(args.env_file)
            return stations_cli.run(args)
        if args.command == "camera":
            load_settings(args.env_file)
            return cameras_cli.run(args)
        if args.command == "run":
            return run_command(load_settings(args.env_file))
    except (ConfigError, ModelError) as exc:
        print(f"leopard-watch: {exc}", file=sys.stderr)
        return 2
    return 1


def load_settings(env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None) -> Settings:
    """Settings.load, then the camera mailboxes the settings name (LW_MAIL_*, LW_MAILBOXES_FILE and its
    password files): a wrong one stops the command at once, in words that name it, as a wrong setting
    does. Here rather than in Settings.validate: the mailbox rules live with the mailboxes
    (bot/cameras/mail/accounts.py), which read Settings, so bot/config.py must not import them."""
    settings = Settings.load(env_file, environ)
    try:
        accounts(settings)
    except MailboxesError as exc:
        raise ConfigError(str(exc)) from None
    return settings


def _dated_backup(settings: Settings) -> Path:
    return settings.backup_dir / f"leopard-watch-{datetime.now():%Y-%m-%d-%H%M%S}.sqlite3"


async def _demo() -> int:
    from bot.cli.demo import run_demo

    return await run_demo()


def run_command(settings: Settings) -> int:
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.botapi import InboxBot
    from bot.botapi.polling import EXIT_CONFLICT, EXIT_TOKEN

    if not settings.token:
        raise ConfigError("LW_TOKEN is not set: put the token from @BotFather in .env (see .env.example)")
    # Before anything can log: whoever reads the journal must not read the token or a mail password.
    logs.configure(settings.log_level, [settings.token, *(a.password for a in accounts(settings))])
    try:  # one bot per database: two would fight over the outbox and, on one token, over the updates
        lock = RunLock(settings.database).acquire()
    except AlreadyRunning as exc:
        print(f"leopard-watch: {exc}", file=sys.stderr)
        return 2
    detector = OnnxLeopardDetector(
        threshold=settings.threshold, threads=settings.threads, precision=settings.detector_precision
    )
    app = build_application(settings, detector)
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        print("leopard-watch: Telegram refused the token; check LW_TOKEN (from @BotFather)", file=sys.stderr)
        return EXIT_TOKEN
    except NetworkError as exc:
        print(f"leopard-watch: cannot reach the Bot API at {settings.base_url}: {exc}", file=sys.stderr)
        return 3
    finally:
        lock.release()
    # Polling that could not go on stopped the application (bot/botapi/polling.py); shut down cleanly.
    code = app.bot.health.exit_code if isinstance(app.bot, InboxBot) else 0
    if code == EXIT_TOKEN:
        print("leopard-watch: Telegram refused the token while running (revoked in @BotFather?); put the "
              "new one in LW_TOKEN", file=sys.stderr)  # fmt: skip
    elif code == EXIT_CONFLICT:
        print(f"leopard-watch: another process or a webhook took this token's updates for "
              f"{settings.conflict_minutes:g} min; see the admin notice", file=sys.stderr)  # fmt: skip
    return code


def backup_command(settings: Settings, dest: Path) -> int:
    """SQLite's online backup: a consistent snapshot even while the bot writes (WAL included)."""
    if not settings.database.is_file():
        print(f"leopard-watch backup: no database at {settings.database}", file=sys.stderr)
        return 2
    if dest.exists():
        print(f"leopard-watch backup: {dest} exists; choose a new file", file=sys.stderr)
        return 2
    dest.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(settings.database)) as src, closing(sqlite3.connect(dest)) as dst:
        src.backup(dst)
        count = dst.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
    print(f"backed up {count} sightings to {dest}; copy {settings.photo_dir} too (photos are by SHA-256)")
    return 0


def detect_command(paths: Sequence[Path], settings: Settings) -> int:
    detector = OnnxLeopardDetector(
        threshold=settings.threshold, threads=settings.threads, precision=settings.detector_precision
    )
    # On stderr, so that stdout stays one JSON object per line; each line also names the model.
    print(f"leopard-watch detect: {detector.precision} model ({detector.precision_reason})", file=sys.stderr)
    for path in iter_images(paths):
        try:
            det = detector.detect(path.read_bytes())
        except (OSError, UnreadableImage) as exc:
            print(json.dumps({"path": str(path), "error": str(exc)}, ensure_ascii=False), flush=True)
            continue
        record = {
            "path": str(path),
            "leopard": det.leopard,
            "score": det.score,
            "label": det.label,
            "label_score": det.label_score,
            "snow_leopard_score": det.snow_leopard_score,
            "boxes": [b.as_list() for b in det.boxes],
            "ms": det.ms,
            "precision": detector.precision,
        }
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
