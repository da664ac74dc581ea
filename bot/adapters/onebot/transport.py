"""OneBot v11 WebSocket transport: reverse-WS server, forward-WS client, API calls, send pacing."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bot.adapters.edge import LogThrottle
from bot.events import AdapterError, register_secret

logger = logging.getLogger(__name__)
_throttle = LogThrottle(logger)

# OneBot frames nest a handful of levels (a forwarded message a few more); anything
# deeper is hostile, and walking it later could exhaust the recursion limit.
MAX_FRAME_DEPTH = 32

ClientRole = Literal["Universal", "Event", "API"]
_ROLES: dict[str, ClientRole] = {"universal": "Universal", "event": "Event", "api": "API"}


@dataclass(frozen=True, slots=True)
class FrameReceived:
    """An event frame (a JSON object that is not an API answer) from the implementation."""

    frame: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LinkOpened:
    """An authenticated connection opened."""

    role: ClientRole
    self_id: str | None


@dataclass(frozen=True, slots=True)
class LinkClosed:
    """An event-carrying connection closed."""

    reason: str


Inbound = FrameReceived | LinkOpened | LinkClosed


class SendPacer:
    """Minimum-interval limiter: a burst of sends leaves at most ``rate`` per second.

    A digest fan-out can queue dozens of messages at once; QQ freezes accounts that
    post in bursts, so callers wait their turn instead.
    """

    def __init__(self, rate_per_second: float, clock: Callable[[], float] = time.monotonic):
        if rate_per_second <= 0:
            raise ValueError(f"send_rate_per_second must be > 0, got {rate_per_second}")
        self.interval = 1.0 / rate_per_second
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        """Return when the next send may go out."""
        async with self._lock:
            delay = self._next - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = max(self._clock(), self._next) + self.interval


@dataclass(eq=False)
class _Link:
    """One open WebSocket with the API answers it still owes us."""

    ws: ServerConnection | ClientConnection
    role: ClientRole
    pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


class OneBotTransport:
    """Carries OneBot frames; events land in ``inbound``, API calls go through ``call``."""

    def __init__(
        self,
        *,
        mode: Literal["reverse", "forward"],
        host: str,
        port: int,
        path: str,
        access_token: str,
        forward_url: str | None,
        api_timeout: float,
        reconnect_delays: tuple[float, ...] = (1, 2, 5, 10, 30),
    ) -> None:
        if mode == "forward" and not forward_url:
            raise ValueError("OneBot forward mode needs forward_url (e.g. ws://127.0.0.1:3001)")
        self.mode = mode
        self.host, self.port = host, port
        self.path = "/" + path.strip("/")
        self.forward_url = forward_url
        self.api_timeout = api_timeout
        self.reconnect_delays = reconnect_delays
        self.inbound: asyncio.Queue[Inbound] = asyncio.Queue()
        register_secret(access_token)
        self._token = access_token.encode()
        self._links: list[_Link] = []
        self._api_ready = asyncio.Event()
        self._echo = itertools.count(1)
        self._server: Server | None = None
        self._forward_task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def bound_port(self) -> int:
        """The listening port (useful with port 0); reverse mode only, after ``start``."""
        if self._server is None:
            raise AdapterError("OneBot reverse WebSocket server is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Listen (reverse mode) or begin connecting (forward mode)."""
        self._closing = False
        if self.mode == "reverse":
            try:
                self._server = await serve(
                    self._serve_link,
                    self.host,
                    self.port,
                    process_request=self._authorize,
                    max_size=16 * 1024 * 1024,
                )
            except OSError as e:
                raise AdapterError(
                    f"无法在 {self.host}:{self.port} 上监听 OneBot 反向 WebSocket"
                    f"（端口已被占用或无权使用）：{e.strerror or e}"
                ) from e
            logger.info(
                "OneBot reverse WebSocket listening on %s:%s%s",
                self.host,
                self.bound_port,
                self.path,
            )
        else:
            self._forward_task = asyncio.create_task(self._forward_loop())

    async def stop(self) -> None:
        """Close every connection and stop listening or reconnecting.

        Connections are closed with the closing handshake, so frames the
        implementation sent before it saw the close still land in ``inbound``.
        """
        self._closing = True
        self._api_ready.set()  # calls waiting for a connection give up now
        server, self._server = self._server, None
        if server is not None:
            # Before any await: a stop that is itself cancelled must not leave the port
            # open. Open links are closed below, each with its closing handshake.
            server.close(close_connections=False)
        if self._forward_task is not None:
            self._forward_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._forward_task
            self._forward_task = None
        for link in list(self._links):
            await link.ws.close()
        if server is not None:
            await server.wait_closed()

    async def call(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Call a OneBot API action and return its ``data``; raise ``AdapterError`` on failure."""
        deadline = asyncio.get_running_loop().time() + self.api_timeout
        link = await self._api_link(action, deadline)
        echo = f"jianfu-{next(self._echo)}"
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        link.pending[echo] = answer
        frame = {"action": action, "params": params or {}, "echo": echo}
        try:
            await link.ws.send(json.dumps(frame, ensure_ascii=False))
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            response = await asyncio.wait_for(answer, remaining)
        except TimeoutError:
            raise AdapterError(f"{action}: no answer within {self.api_timeout:g}s") from None
        except ConnectionClosed as e:
            raise AdapterError(f"{action}: connection closed ({e})") from None
        finally:
            link.pending.pop(echo, None)
        status, retcode = response.get("status"), response.get("retcode")
        # "async" / retcode 1 means the implementation accepted the call for later.
        if status in ("ok", "async") and retcode in (0, 1, None):
            return response.get("data")
        detail = response.get("wording") or response.get("message") or ""
        raise AdapterError(f"{action} failed: status={status} retcode={retcode} {detail}".rstrip())

    async def _api_link(self, action: str, deadline: float) -> _Link:
        # Wait briefly for an API-capable link: split Event/API clients may open in any order.
        while True:
            if self._closing:
                raise AdapterError(f"{action}: the OneBot connection is shutting down")
            for link in reversed(self._links):
                if link.role in ("Universal", "API"):
                    return link
            self._api_ready.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AdapterError(f"{action}: no OneBot connection")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._api_ready.wait(), remaining)

    def _authorize(self, connection: ServerConnection, request: Request) -> Response | None:
        # Runs before the WebSocket handshake completes, so rejected peers never open one.
        url = urlsplit(request.path)
        if "/" + url.path.strip("/") != self.path:
            return connection.respond(404, "Not Found\n")
        offered = _bearer(request.headers) or _first(parse_qs(url.query).get("access_token"))
        if offered is None:
            logger.warning("OneBot connection without an access token refused")
            return connection.respond(401, "Unauthorized\n")
        if not hmac.compare_digest(offered.encode(), self._token):
            logger.warning("OneBot connection with a wrong access token refused")
            return connection.respond(403, "Forbidden\n")
        return None

    async def _serve_link(self, ws: ServerConnection) -> None:
        headers = ws.request.headers if ws.request is not None else Headers()
        raw_role = headers.get("X-Client-Role", "Universal")
        role = _ROLES.get(raw_role.lower())
        if role is None:
            logger.warning("unknown X-Client-Role %.20r, treating it as Universal", raw_role)
            role = "Universal"
        await self._run_link(ws, role, headers.get("X-Self-ID"))

    async def _forward_loop(self) -> None:
        assert self.forward_url is not None
        headers = {"Authorization": f"Bearer {self._token.decode()}"}
        failures = 0
        while not self._closing:
            try:
                # proxy=None: the implementation is on loopback; never route via env proxies.
                async with connect(
                    self.forward_url,
                    additional_headers=headers,
                    proxy=None,
                    max_size=16 * 1024 * 1024,
                ) as ws:
                    failures = 0
                    await self._run_link(ws, "Universal", None)
            except (OSError, ConnectionClosed, TimeoutError) as e:
                logger.warning("OneBot forward WebSocket unavailable: %s", e)
            except Exception as e:  # e.g. InvalidStatus 401/403: retrying is still right
                logger.warning("OneBot forward WebSocket refused: %s", e)
            if self._closing:
                break
            delay = self.reconnect_delays[min(failures, len(self.reconnect_delays) - 1)]
            failures += 1
            await asyncio.sleep(delay)

    async def _run_link(
        self, ws: ServerConnection | ClientConnection, role: ClientRole, self_id: str | None
    ) -> None:
        link = _Link(ws, role)
        self._links.append(link)
        if role in ("Universal", "API"):
            self._api_ready.set()
        logger.info("OneBot %s connection opened (self id %s)", role, self_id)
        self.inbound.put_nowait(LinkOpened(role, self_id))
        reason = "connection closed"
        try:
            async for raw in ws:
                try:
                    self._accept(link, raw)
                except Exception as e:
                    # One frame, whatever it holds, never ends the connection.
                    _throttle.error(
                        f"frame-{type(e).__name__}",
                        "ignoring a OneBot frame that could not be read: %s",
                        type(e).__name__,
                    )
        except ConnectionClosed as e:
            reason = f"connection lost ({e})"
        finally:
            self._links.remove(link)
            for answer in link.pending.values():
                if not answer.done():
                    answer.set_exception(ConnectionClosed(None, None))
            code = ws.close_code
            if reason == "connection closed" and code is not None:
                reason = f"connection closed (code {code})"
            logger.info("OneBot %s connection closed: %s", role, reason)
            if role in ("Universal", "Event"):
                self.inbound.put_nowait(LinkClosed(reason))

    def _accept(self, link: _Link, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            _throttle.warning(
                "not-json", "ignoring a OneBot frame that is not JSON: %.120r", raw[:120]
            )
            return
        except RecursionError:
            _throttle.warning(
                "too-deep", "ignoring a OneBot frame nested too deeply to parse: %.60r", raw[:60]
            )
            return
        if not isinstance(frame, dict):
            _throttle.warning(
                "not-object", "ignoring a OneBot frame that is not an object: %.120r", raw[:120]
            )
            return
        if _too_deep(frame, MAX_FRAME_DEPTH):
            _throttle.warning(
                "too-deep", "ignoring a OneBot frame nested more than %d levels", MAX_FRAME_DEPTH
            )
            return
        if (
            "post_type" not in frame
            and "echo" in frame
            and ("retcode" in frame or "status" in frame)
        ):
            answer = link.pending.get(str(frame["echo"]))
            if answer is not None and not answer.done():
                answer.set_result(frame)
            else:
                logger.warning(
                    "ignoring an API answer nobody waits for (echo %.40r)", frame["echo"]
                )
            return
        if link.role == "API":
            logger.warning("ignoring an event frame on an API-only connection")
            return
        self.inbound.put_nowait(FrameReceived(frame))


def _too_deep(value: object, limit: int) -> bool:
    """Whether JSON ``value`` nests deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _bearer(headers: Headers) -> str | None:
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    # go-cqhttp-era clients sent "Token <t>"; the spec says "Bearer <t>".
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None
