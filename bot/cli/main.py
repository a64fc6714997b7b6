"""The `leopard-watch` command: run, demo, detect (and more subcommands as they land)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.cameras.mail import MailboxesError, accounts
from bot.cli import cameras as cameras_cli
from bot.cli import catalogue as catalogue_cli
from bot.cli import deployments as deployments_cli
from bot.cli import export as export_cli
from bot.cli import individuals as individuals_cli
from bot.cli import logs
from bot.cli import sd_import as import_cli
from bot.cli import stations as stations_cli
from bot.cli.backup import backup_command, dated_backup
from bot.cli.errors import FAILED, USAGE, CliError, Parser, guarded
from bot.config import ConfigError, Settings
from bot.detection import Box
from bot.detection.model import OnnxLeopardDetector, UnreadableImage
from bot.media import scan
from storage.lock import AlreadyRunning, RunLock

ENV_HELP = "settings file (default: .env in the current folder, if any); before or after a command"
DEBUG_HELP = "show the traceback behind an error, and log at DEBUG"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.env_file is None:
        args.env_file = ".env"  # read if it is there: the environment alone may hold every setting
    elif not Path(args.env_file).exists():  # /dev/null: explicitly no file
        print(f"leopard-watch: no settings file at {args.env_file} (--env-file); give the path of your .env "
              "or leave --env-file out", file=sys.stderr)  # fmt: skip
        return USAGE
    return guarded(args.command, lambda: _dispatch(args), debug=args.debug)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="leopard-watch", description=__doc__)
    parser.add_argument("--env-file", default=None, help=ENV_HELP)
    parser.add_argument("--debug", action="store_true", default=False, help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot against Telegram (needs LW_TOKEN)")
    sub.add_parser("demo", help="run the whole bot offline against the built-in Bot API emulator")
    p_detect = sub.add_parser("detect", help="detect leopards in image files or folders; JSON lines out")
    p_detect.add_argument("paths", nargs="+", type=Path)
    import_cli.add_parser(sub)
    export_cli.add_parser(sub)
    stations_cli.add_parser(sub)
    cameras_cli.add_parser(sub)
    catalogue_cli.add_parser(sub)
    individuals_cli.add_parser(sub)  # `individuals rank`, beside the catalogue's actions
    deployments_cli.add_parser(sub)
    p_doctor = sub.add_parser("doctor", help="check settings, folders, database, model and the Bot API")
    p_doctor.add_argument(
        "--full", action="store_true", help="also run a photo through the model and poll Telegram for 3 s"
    )
    p_doctor.add_argument("--json", action="store_true", help="one JSON object, for monitors")
    p_backup = sub.add_parser("backup", help="consistent copy of the database while the bot runs")
    p_backup.add_argument(
        "dest", type=Path, nargs="?", help="file to write (default: a dated file in LW_DATA_DIR/backups)"
    )
    # Global options work after the subcommand (and its action) too, without a default of their own
    # that would overwrite the one given before the subcommand.
    _everywhere(sub, "--env-file", help=ENV_HELP)
    _everywhere(sub, "--debug", action="store_true", help=DEBUG_HELP)
    return parser


def _everywhere(sub: argparse._SubParsersAction, flag: str, **kwargs: object) -> None:
    for subparser in sub.choices.values():
        if flag not in subparser._option_string_actions:  # station and camera add --env-file themselves
            subparser.add_argument(flag, default=argparse.SUPPRESS, **kwargs)
        for action in subparser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _everywhere(action, flag, **kwargs)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return asyncio.run(_demo())
    settings = load_settings(args.env_file)
    if args.command == "detect":
        return detect_command(args.paths, settings)
    if args.command == "backup":
        return backup_command(settings, args.dest or dated_backup(settings))
    if args.command == "doctor":
        from bot.cli.doctor import doctor

        return doctor(settings, full=args.full, as_json=args.json)
    if args.command == "run":
        return run_command(settings, args.env_file, debug=args.debug)
    if args.command == "individuals" and args.action == "rank":
        return individuals_cli.run(args, settings)
    # Each reads its own settings; loaded above first, so that they refuse what every other command refuses.
    commands = {"export": export_cli, "import": import_cli, "station": stations_cli, "camera": cameras_cli,
                "individuals": catalogue_cli, "deployment": deployments_cli}  # fmt: skip
    return commands[args.command].run(args)


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


async def _demo() -> int:
    from bot.cli.demo import run_demo

    return await run_demo()


def run_command(settings: Settings, env_file: str | Path = ".env", *, debug: bool = False) -> int:
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.botapi import InboxBot
    from bot.botapi.polling import EXIT_CONFLICT, EXIT_TOKEN

    if not settings.token:
        where = Path(env_file).resolve() if Path(env_file).is_file() else "the environment or a .env file"
        raise ConfigError(f"LW_TOKEN is not set: put the token from @BotFather in {where} as LW_TOKEN=...")
    # Before anything can log: whoever reads the journal must not read the token or a mail password.
    logs.configure(
        "DEBUG" if debug else settings.log_level,
        [settings.token, *(a.password for a in accounts(settings))],
        debug=debug,
    )
    try:  # one bot per database: two would fight over the outbox and, on one token, over the updates
        lock = RunLock(settings.database).acquire()
    except AlreadyRunning as exc:
        raise CliError(f"{exc}: stop that one first (or give this one its own LW_DATA_DIR)", USAGE) from None
    detector = OnnxLeopardDetector(
        threshold=settings.threshold, threads=settings.threads, precision=settings.detector_precision
    )
    app = build_application(settings, detector)
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        print("leopard-watch run: Telegram refused the token: put the token from @BotFather in LW_TOKEN "
              "(a revoked one stops working at once)", file=sys.stderr)  # fmt: skip
        return EXIT_TOKEN
    except NetworkError as exc:  # at start-up: while running, polling retries by itself
        raise CliError(
            f"cannot reach the Bot API at {settings.base_url} ({exc}): check this machine's internet "
            "connection (a proxy or firewall?) or LW_BASE_URL, then start it again",
            FAILED,
        ) from exc
    finally:
        lock.release()
    # Polling that could not go on stopped the application (bot/botapi/polling.py); shut down cleanly.
    code = app.bot.health.exit_code if isinstance(app.bot, InboxBot) else 0
    if code == EXIT_TOKEN:
        print("leopard-watch run: Telegram refused the token while running (revoked in @BotFather?); put "
              "the new one in LW_TOKEN", file=sys.stderr)  # fmt: skip
    elif code == EXIT_CONFLICT:
        print(f"leopard-watch run: another process or a webhook took this token's updates for "
              f"{settings.conflict_minutes:g} min; see the admin notice", file=sys.stderr)  # fmt: skip
    return code


def detect_command(paths: Sequence[Path], settings: Settings) -> int:
    detector = OnnxLeopardDetector(
        threshold=settings.threshold, threads=settings.threads, precision=settings.detector_precision
    )
    # On stderr, so that stdout stays one JSON object per line; each line also names the model.
    print(f"leopard-watch detect: {detector.precision} model ({detector.precision_reason})", file=sys.stderr)
    read = leopards = unreadable = 0
    for path in _detect_paths(paths):
        try:
            det = detector.detect(path.read_bytes())
        except (OSError, UnreadableImage) as exc:
            unreadable += 1
            error = {"path": str(path), "error": _unread(path, exc)}
            print(json.dumps(error, ensure_ascii=False), flush=True)
            continue
        read += 1
        leopards += bool(det.leopard)
        # Every animal with its box and kind; the ImageNet label only in the raw_* fields (issue 24).
        leopard_box = det.boxes[0] if det.boxes and det.kind in ("leopard", "snow_leopard") else None
        animals = [
            {
                "box": [a.x0, a.y0, a.x1, a.y1],
                "confidence": round(a.score, 4),
                "kind": det.kind if (a.x0, a.y0, a.x1, a.y1) == _corners(leopard_box) else "animal",
            }
            for a in det.animals
        ]
        record = {
            "path": str(path),
            "kind": det.kind,
            "leopard": det.leopard,
            "score": det.score,
            "snow_leopard_score": det.snow_leopard_score,
            "boxes": [b.as_list() for b in det.boxes],
            "animals": animals,
            "raw_label": det.label,
            "raw_label_score": det.label_score,
            "ms": det.ms,
            "precision": detector.precision,
        }
        print(json.dumps(record, ensure_ascii=False), flush=True)
    print(f"leopard-watch detect: {read} read, {leopards} leopard{'' if leopards == 1 else 's'}, "
          f"{unreadable} unreadable", file=sys.stderr)  # fmt: skip
    return 0 if read else FAILED  # nothing could be read: a script must not take silence for "no leopard"


def _corners(box: Box | None) -> tuple[int, int, int, int] | None:
    return None if box is None else (box.x0, box.y0, box.x1, box.y1)


def _detect_paths(paths: Sequence[Path]) -> list[Path]:
    """The images under the paths, in order; a folder without any is said on stderr (a missing path stays
    in the list: its JSON line says it is missing)."""
    found: list[Path] = []
    for path in paths:
        images = scan([path]).images
        if path.is_dir() and not images:
            print(f"leopard-watch detect: no images in {path} (looked for .jpg, .png, .heic, .tif, .webp)",
                  file=sys.stderr)  # fmt: skip
        found += images
    return found


def _unread(path: Path, exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {path}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {path} is not readable by this user"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
