"""HTTP front of the Bot API emulator: a loopback aiohttp server the real PTB client talks to."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

from aiohttp import web

from . import api_edit, api_misc, api_send, conformance  # noqa: F401  (api_*: register their methods)
from .errors import ApiError
from .forwards import ForwardsMixin
from .group_life import GroupLifeMixin
from .members import MembersMixin
from .params import read_params
from .registry import lookup
from .state import FailRule, World

logger = logging.getLogger(__name__)

# Bots may upload up to 50 MB; leave headroom so oversize checks happen in handlers, not aiohttp.
_MAX_BODY = 64 * 1024 * 1024


class BotApiEmulator(MembersMixin, ForwardsMixin, GroupLifeMixin):
    """In-process Telegram Bot API for tests and demos; see emulator/__init__.py for usage."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "leopard_watch_bot",
        *,
        bot_name: str = "Leopard Watch",
        group_privacy: bool = True,
    ) -> None:
        self.token = token
        self._world = World(token, bot_username, bot_name, group_privacy)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._spec_violations: list[str] = []

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll whose client went away must not keep waiting.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]
        logger.info("Bot API emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        world = self._world
        world.closing = True
        async with world.update_cond:
            world.update_cond.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        world.closing = False

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started; call `await emu.start()` first")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return dict(self._world.bot_user)

    # --- HTTP ---------------------------------------------------------------------------------

    @staticmethod
    def _error(err: ApiError) -> web.Response:
        return web.json_response(err.payload(), status=err.code)

    def _conform(self, found: list[str]) -> None:
        # Deduplicated: one wrong field in every message of a long test is one problem, not hundreds.
        self._spec_violations.extend(v for v in found if v not in self._spec_violations)

    def _method_error(self, method: str, err: ApiError) -> web.Response:
        self._conform(conformance.check_error(method, err.payload()))
        return self._error(err)

    async def _handle_method(self, request: web.Request) -> web.Response:
        world = self._world
        if request.match_info["token"] != world.token:
            return self._method_error(request.match_info["method"], ApiError(401))
        name = request.match_info["method"]
        entry = lookup(name)
        method = entry[0] if entry else name
        try:
            params = await read_params(request)
        except ApiError as err:
            world.calls.append((method, {}))
            return self._method_error(method, err)
        world.calls.append((method, params))
        self._conform(conformance.check_call(method, params))
        logger.debug("Bot API call %s %s", method, params)
        if entry is None:
            return self._method_error(method, ApiError(404))
        try:
            failure = world.take_failure(method, params)
            if failure is not None:
                raise failure
            result = await entry[1](world, params)
            if delay := world.take_delay(method):
                await asyncio.sleep(delay)  # done, but the answer is late: a slow or lossy link
        except ApiError as err:
            logger.debug("Bot API call %s failed: %s", method, err.description)
            return self._method_error(method, err)
        except Exception as exc:
            # An emulator bug must reach the test as a readable Bot API error, not an HTML page.
            logger.exception("emulator failed handling %s", method)
            return self._method_error(method, ApiError(500, f"Internal Server Error: emulator bug: {exc!r}"))
        self._conform(conformance.check_result(method, result))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._world.token:
            return self._error(ApiError(401))
        stored = self._world.files.by_path(request.match_info["path"])
        if stored is None:
            return self._error(ApiError(404))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # --- failure injection --------------------------------------------------------------------

    def block_chat(self, chat_id: int) -> None:
        """Sends to chat_id get 403 as when a user blocks the bot or a group kicks it."""
        self._world.blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self._world.blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        code: int,
        *,
        chat_id: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` ("*" = any) fail with `code`, optionally only for chat_id."""
        self._world.failures.append(FailRule(method.lower(), code, chat_id, retry_after, description, times))

    def file_temporarily_unavailable(self, *, times: int = 1) -> None:
        """The next `times` getFile calls answer 400 "Bad Request: file is temporarily unavailable":
        tdlib's answer (telegram-bot-api Client.cpp passes its download error on) when Telegram's server
        failed to fetch the file from its own storage. The file_id stays valid; a later call succeeds."""
        description = "Bad Request: file is temporarily unavailable"
        self.fail_next("getFile", 400, description=description, times=times)

    def limit_uploads(self, max_bytes: int) -> None:
        """Lower Telegram's 50 MB cap on a file a bot uploads (sendDocument, sendPhoto, ...), so that a
        test reaches it without building 50 MB; over it the call answers 413 "Request Entity Too Large"
        as Telegram's front end does (PTB raises NetworkError)."""
        self._world.upload_limit = int(max_bytes)

    def slow_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` take effect at once but answer `seconds` late."""
        self._world.slow.setdefault(method.lower(), []).extend([seconds] * times)

    async def revoke_token(self) -> str:
        """The owner revokes the token in @BotFather: every call with the old one, a long poll waiting on
        it and file downloads included, answers 401 "Unauthorized" (PTB raises InvalidToken). Returns
        the new token, which is also `emu.token` from now on."""
        world = self._world
        self.token = world.token = f"{world.bot_user['id']}:REVOKED{len(world.calls)}"
        async with world.update_cond:
            world.update_cond.notify_all()
        return self.token

    async def set_webhook(self, url: str = "https://elsewhere.example/hook") -> None:
        """Someone else (another deployment) sets a webhook for this token: a waiting getUpdates ends with
        409 "terminated by setWebhook request", and every later one with 409 "can't use getUpdates method
        while webhook is active" until deleteWebhook (PTB calls it when polling starts)."""
        await api_misc.set_webhook(self._world, {"url": url})

    @asynccontextmanager
    async def other_instance(self, poll_timeout: float = 1.0) -> AsyncIterator[list[dict[str, Any]]]:
        """A second process polling this token (a copy of .env on another machine) while the block runs.
        Like any client it long-polls and asks again after a 409, so each of its polls ends the bot's
        waiting one with 409 "terminated by other getUpdates request" (and the bot's end its own). It
        takes and confirms the updates Telegram hands it, which the bot then never sees; the list
        yielded fills with them."""
        taken: list[dict[str, Any]] = []

        async def poll() -> None:
            offset: int | None = None
            while True:
                try:
                    params = {"timeout": poll_timeout, "offset": offset}
                    batch = await api_misc.get_updates(self._world, params)
                except ApiError:
                    await asyncio.sleep(0.2)  # as a client's retry after an error
                    continue
                if batch:
                    taken.extend(batch)
                    offset = batch[-1]["update_id"] + 1
                    self._world.confirm(offset)

        task = asyncio.create_task(poll())
        try:
            yield taken
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def set_chat_member(self, chat_id: int, user_id: int, status: str, **fields: Any) -> None:
        """What getChatMember returns for this pair; status is a Bot API ChatMember status."""
        world = self._world
        user = world.bot_user if user_id == world.bot_user["id"] else world.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}; create it with emu.user() first")
        world.members[(chat_id, user_id)] = api_misc.member_object(user, status, fields)

    # --- inspection ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return self._world.calls

    @property
    def spec_violations(self) -> list[str]:
        """Where calls, results or errors strayed from the Bot API spec (emulator/conformance.py).

        The live list: a test that provokes violations on purpose checks and clears it.
        """
        return self._spec_violations

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self._world.calls if name.lower() == method.lower()]

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        world = self._world
        return [world.sent_view(r) for r in world.sent_records if r.chat_id == chat_id]

    def sent_all(self) -> list[dict[str, Any]]:
        return [self._world.sent_view(r) for r in self._world.sent_records]

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._world.files.get(file_id)
        if stored is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return stored.data

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self._world.callback_answers.get(query_id))

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        return copy.deepcopy(self._world.commands.get(World.scope_key(scope, language_code), []))

    def updates_pending(self) -> int:
        return len(self._world.updates)

    @property
    def acknowledged_update_id(self) -> int:
        return self._world.acknowledged_update_id

    # The timeout argument is part of the documented test API, hence the ASYNC109 waivers.
    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        what: str | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise TimeoutError(
                    self._timeout_message(what or str(getattr(predicate, "__name__", "condition")), timeout)
                )
            await asyncio.sleep(0.01)

    async def wait_sent(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        await self.wait_for(
            lambda: len(self.sent(chat_id)) >= count,
            timeout,
            what=f"{count} message(s) sent to chat {chat_id} (have {len(self.sent(chat_id))})",
        )
        return self.sent(chat_id)

    def _timeout_message(self, what: str, timeout: float) -> str:
        sent = [
            (m["chat"]["id"], m["method"], m.get("text") or m.get("caption") or "")[:3]
            for m in self.sent_all()[-5:]
        ]
        calls = [name for name, _ in self._world.calls[-10:]]
        return (
            f"timed out after {timeout}s waiting for {what}; last messages sent by the bot "
            f"(chat, method, text): {sent}; last API calls: {calls}; "
            f"updates pending: {self.updates_pending()}"
        )
