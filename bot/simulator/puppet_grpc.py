"""grpclib plumbing for the simulated puppet service: routes, token check, cuttable links.

grpclib 0.4 hides the ``:authority`` pseudo-header (where python-wechaty puts
its token) from request handlers, and neither its ``Server.close()`` nor
asyncio's (on 3.11) closes accepted connections. Both needs are met by
replacing ``Server._protocol_factory`` (grpclib is pinned below 0.5): our
handler checks the token where the headers are still visible, and our
protocol remembers its transport so the simulator can cut it.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from grpclib.const import Cardinality, Status
from grpclib.const import Handler as RouteHandler
from grpclib.exceptions import GRPCError
from grpclib.protocol import H2Protocol
from grpclib.server import Handler as _GrpclibHandler
from grpclib.server import Server, Stream
from wechaty_grpc.wechaty import puppet as pb

ROUTE_PREFIX = "/wechaty.Puppet/"
Rpc = Callable[[Any], Awaitable[Any]]


def puppet_routes(
    servicer: Any, gate: asyncio.Event, *, not_found: type[Exception]
) -> dict[str, RouteHandler]:
    """Route table for a servicer whose ``_rpc_<snake_name>`` methods answer wechaty RPCs.

    Routes and request/reply classes come from wechaty-grpc itself (the
    ``/wechaty.Puppet/RoomPayload`` route takes ``RoomPayloadRequest``...).
    Unary methods take the request and return the reply; ``_rpc_event`` gets
    the raw stream. Calls wait while ``gate`` is clear; ``not_found`` errors
    become gRPC NOT_FOUND.
    """

    def unary(rpc: Rpc) -> Callable[[Stream[Any, Any]], Awaitable[None]]:
        async def handle(stream: Stream[Any, Any]) -> None:
            request = await stream.recv_message()
            await gate.wait()
            try:
                reply = await rpc(request)
            except not_found as exc:
                raise GRPCError(Status.NOT_FOUND, str(exc)) from exc
            await stream.send_message(reply)

        return handle

    routes = {}
    for method in dir(servicer):
        if not method.startswith("_rpc_") or method == "_rpc_event":
            continue
        name = "".join(part.title() for part in method.removeprefix("_rpc_").split("_"))
        routes[ROUTE_PREFIX + name] = RouteHandler(
            unary(getattr(servicer, method)),
            Cardinality.UNARY_UNARY,
            getattr(pb, f"{name}Request"),
            getattr(pb, f"{name}Response"),
        )
    routes[ROUTE_PREFIX + "Event"] = RouteHandler(
        servicer._rpc_event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse
    )
    return routes


class _TokenCheckingHandler(_GrpclibHandler):
    """grpclib connection handler that answers every call UNAUTHENTICATED on a wrong token."""

    def __init__(self, token: str, rejecting: dict[str, RouteHandler], *args: Any) -> None:
        super().__init__(*args)
        self._token = token.encode()
        self._rejecting = rejecting

    def accept(self, stream: Any, headers: Any, release_stream: Callable[[], Any]) -> None:
        authority = dict(headers).get(":authority", "")
        if hmac.compare_digest(str(authority).encode(), self._token):
            super().accept(stream, headers, release_stream)
            return
        real = self.mapping
        self.mapping = self._rejecting
        try:
            super().accept(stream, headers, release_stream)
        finally:
            self.mapping = real


class _TrackedProtocol(H2Protocol):
    """H2Protocol that remembers its transport so the simulator can cut the connection."""

    transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        super().connection_made(transport)


def _closed(protocol: _TrackedProtocol) -> bool:
    return protocol.transport is not None and protocol.transport.is_closing()


class TokenCheckingServer(Server):
    def __init__(self, handlers: Collection[Any], token: str) -> None:
        super().__init__(handlers)
        self._token = token
        self.protocols: list[_TrackedProtocol] = []

    def cut_connections(self) -> None:
        """Close every client TCP connection, as a crashed service or lost network does.

        grpclib's Server.close() (and asyncio's on 3.11) leaves accepted
        connections open with their handlers cancelled, so a client's event
        stream would wait forever instead of seeing the service go away.
        """
        for protocol in self.protocols:
            if protocol.transport is not None and not _closed(protocol):
                protocol.transport.close()
        self.protocols.clear()

    def _protocol_factory(self) -> _TrackedProtocol:
        # grpclib 0.4's Server._protocol_factory, with our handler class.
        self.__gc_step__()

        async def reject(stream: Stream[Any, Any]) -> None:
            raise GRPCError(Status.UNAUTHENTICATED, "invalid puppet service token")

        rejecting = {path: h._replace(func=reject) for path, h in self._mapping.items()}
        handler = _TokenCheckingHandler(
            self._token,
            rejecting,
            self._mapping,
            self._codec,
            self._status_details_codec,
            self.__dispatch__,
        )
        self._handlers.add(handler)
        protocol = _TrackedProtocol(handler, self._config, self._h2_config)
        self.protocols = [
            p for p in self.protocols if p.transport is None or not p.transport.is_closing()
        ]
        self.protocols.append(protocol)
        return protocol
