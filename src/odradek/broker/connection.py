"""The asyncio shell of one client connection: bytes in, frames to the dispatcher, bytes out.

Requests of one connection are answered in order (clients pipeline and match responses by
order and correlation id). Requests whose handlers finish synchronously (most of them, Produce
included) are answered inside `buffer_updated`, with no task; so are coroutine handlers that
return before their first real wait (an OffsetCommit): the coroutine is started right there, and
only one that waits gets a task to finish in. Such a handler must not need a current task before it
first waits (no `asyncio.timeout` or `TaskGroup` there). A request that must wait (a long-polling
Fetch) turns the connection busy until it completes, and later requests queue behind it.
Except after an append (`AfterAppend`: an acks=all Produce waiting for its followers, or for its
fsync): the connection goes on handling the client's next Produce requests while it waits, and
each answer takes a slot in `answers`, sent in request order once the slots before it are sent
(docs/adr/0008-pipelined-produce-answers.md). Any other request waits for those answers first.
Reading pauses when too many requests (or request bytes) queue or the transport's write buffer is
full, and queued requests wait while it is full, so a client that pipelines requests without
reading the answers costs about one response beyond the write buffer's limit, never all of them.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from odradek.broker.api import Chunks
from odradek.broker.client_session import ClientSession
from odradek.broker.dispatcher import AfterAppend, CloseConnection, Resumed
from odradek.broker.frame_reader import FrameError, FrameReader
from odradek.protocol.file_region import FileRegion, send_buffer, send_region
from odradek.security.principal import KafkaPrincipal

if TYPE_CHECKING:
    from odradek.broker.dispatcher import Dispatcher
    from odradek.broker.listener_security import ListenerSecurity
    from odradek.broker.metrics import BrokerMetrics

log = logging.getLogger("odradek.broker.connection")

_NO_PENDING: collections.deque[bytearray] = collections.deque(maxlen=0)  # shared while nothing waits
_NO_ANSWERS: collections.deque[Answer] = collections.deque(maxlen=0)
MAX_QUEUED_REQUESTS = 64
MAX_QUEUED_BYTES = 8 * 1024 * 1024
"""Requests queued behind a busy one stop reading at this size (one larger request still fits)."""
COALESCE_BYTES = 65536
"""Answers to pipelined requests gathered into one write up to about this size."""
_SIZE = struct.Struct(">i")
_ids = itertools.count(1)
_PRODUCE_KEY = b"\x00\x00"  # a frame's first two bytes: the API key


class Answer:
    """The slot of one request's answer among those outstanding behind an appended Produce:
    filled when its handler finishes (`ready`), sent once every slot before it was sent."""

    __slots__ = ("chunks", "ready", "size", "task")

    def __init__(self, size: int) -> None:
        self.chunks: Chunks | None = None
        self.ready = False
        self.size = size  # the request's bytes, held (its batches are views of them) until answered
        self.task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Kafka's connection-level security configs."""

    pre_auth_max_request_size: int = 524_288  # sasl.server.max.receive.size
    max_reauth_ms: int = 0  # connections.max.reauth.ms
    failed_authentication_delay_ms: int = 100  # connection.failed.authentication.delay.ms


DEFAULT_SESSION_SETTINGS = SessionSettings()


class KafkaConnection(asyncio.BufferedProtocol):
    __slots__ = (
        "answers",
        "busy",
        "client_host",
        "closed",
        "connection_id",
        "connections",
        "dispatcher",
        "idle_sweeps",
        "idle_unsent",
        "max_request_size",
        "metrics",
        "muted",
        "on_closed",
        "pending",
        "pending_bytes",
        "reader",
        "reading_paused",
        "security",
        "session",
        "settings",
        "socket_fd",
        "transport",
        "writing_paused",
    )

    def __init__(
        self,
        dispatcher: Dispatcher,
        max_request_size: int,
        connections: set[KafkaConnection],
        metrics: BrokerMetrics | None = None,
        security: ListenerSecurity | None = None,
        settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
        *,
        scratch: memoryview | None = None,
        on_closed: Callable[[], None] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.max_request_size = max_request_size
        self.security = security
        self.settings = settings
        uses_sasl = security is not None and security.uses_sasl
        # `scratch`: the server's receive buffer shared by all its connections (frame_reader.py);
        # None: a buffer of the reader's own (tests).
        self.reader = FrameReader(
            min(max_request_size, settings.pre_auth_max_request_size) if uses_sasl else max_request_size,
            scratch,
        )
        self.connection_id = next(_ids)
        self.session = ClientSession.for_listener(security, "?", self.connection_id)
        self.muted = False
        self.connections = connections
        self.metrics = metrics
        self.on_closed = on_closed
        self.transport: asyncio.Transport | None = None
        self.socket_fd = -1
        """The plain TCP socket's descriptor (file regions are sent on it with sendfile), or -1."""
        self.client_host = "?"
        self.pending: collections.deque[bytearray] = _NO_PENDING  # requests waiting their turn
        self.pending_bytes = 0
        self.busy: asyncio.Task[None] | None = None
        """A handler waiting before it appends (a long-polling Fetch): nothing else is handled."""
        self.answers: collections.deque[Answer] = _NO_ANSWERS
        """Answers outstanding behind an appended Produce, in request order."""
        self.reading_paused = False
        self.writing_paused = False
        self.closed = False
        self.idle_sweeps = 0  # idle-connection sweeps in a row with no activity
        self.idle_unsent = 0  # answer bytes the transport still held at the last sweep

    # --- asyncio.BufferedProtocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.client_host = str(peer[0]) if peer else "?"
        sock = transport.get_extra_info("socket")
        if sock is not None and (self.security is None or self.security.tls is None):
            self.socket_fd = sock.fileno()
        self.session = ClientSession.for_listener(
            self.security, self.client_host, self.connection_id, max_reauth_ms=self.settings.max_reauth_ms
        )
        self.connections.add(self)
        if self.metrics is not None:
            self.metrics.connections.inc()
        if self.security is not None and self.security.tls is not None:
            self._tls_principal(transport)

    def _tls_principal(self, transport: asyncio.BaseTransport) -> None:
        """SSL listeners: the principal is the client certificate's subject after the mapping rules
        (User:ANONYMOUS without a certificate); SASL_SSL listeners take it from SASL instead."""
        from odradek.broker.tls import peer_distinguished_name
        from odradek.security.principal_mapping import PrincipalMappingError, map_principal_name

        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        subject = peer_distinguished_name(der)
        self.session.tls_subject = subject
        assert self.security is not None
        if subject is None or self.security.uses_sasl:
            return
        try:
            self.session.principal = KafkaPrincipal.user(
                map_principal_name(self.security.principal_rules, subject)
            )
        except PrincipalMappingError as exc:
            self._abort(str(exc))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.reader.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self.idle_sweeps = 0
        try:
            frames = self.reader.buffer_updated(nbytes)
        except FrameError as exc:
            self._abort(str(exc))
            return
        if frames:
            if (
                len(frames) == 1
                and not self.pending
                and self.busy is None
                and not self.answers
                and not (self.closed or self.writing_paused or self.muted)
            ):
                self._answer(frames[0])  # the usual case: one request, nothing queued before it
                return
            if self.pending is _NO_PENDING:
                self.pending = collections.deque()
            self.pending.extend(frames)
            self.pending_bytes += len(frames[0]) if len(frames) == 1 else sum(len(f) for f in frames)
            self._process()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.connections.discard(self)
        if self.metrics is not None:
            self.metrics.connections.dec()
        if self.on_closed is not None:
            self.on_closed()
        if self.busy is not None:
            self.busy.cancel()
            self.busy = None
        for answer in self.answers:
            if answer.task is not None:
                answer.task.cancel()
        self.answers = _NO_ANSWERS
        self.pending = _NO_PENDING
        self.pending_bytes = 0

    def pause_writing(self) -> None:
        self.writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.pending and self.busy is None and not self.closed:
            self._process()
        else:
            self._update_reading()

    # --- processing ------------------------------------------------------------------------

    def _process(self) -> None:
        transport = self.transport
        assert transport is not None
        # Answers given in this pass go out together, one write (one system call) for a pipelined
        # run of small requests, e.g. librdkafka's one Produce per partition; at most about
        # COALESCE_BYTES wait here, so a client not reading its answers still meets the write
        # buffer's limit (pause_writing) after about one response.
        out: Chunks = []
        out_bytes = 0
        pending, session, handle = self.pending, self.session, self.dispatcher.handle
        host, connection_id = self.client_host, self.connection_id
        while pending and self.busy is None and not (self.closed or self.writing_paused or self.muted):
            if self.answers and (pending[0][:2] != _PRODUCE_KEY or session.throttle_ms > 0):
                break  # only Produce requests go ahead of outstanding answers, none once throttled
            frame = pending.popleft()
            self.pending_bytes -= len(frame)
            chunks: Chunks | None
            if session.sasl is not None and session.sasl.raw_tokens:
                out_bytes = self._flush(out)
                self._raw_sasl_token(frame)
                continue
            try:
                result = handle(frame, host, connection_id, session)
                if result is None or isinstance(result, list):
                    chunks = result
                elif isinstance(result, AfterAppend):  # appended; its answer waits: go on meanwhile
                    coro = result.awaitable
                    waiting_on = coro.send(None)
                    out_bytes = self._flush(out)
                    self._wait_in_order(Resumed(coro, waiting_on), len(frame), serial=False)
                    continue
                else:  # the handler waits (the dispatcher ran it up to there): a task finishes it
                    waiting_on = result.send(None)
                    self._flush(out)
                    resumed = Resumed(result, waiting_on)
                    if self.answers:
                        self._wait_in_order(resumed, len(frame), serial=True)
                    else:
                        self.busy = asyncio.get_running_loop().create_task(self._await_response(resumed))
                    break
            except StopIteration as done:  # it returned without waiting after all
                chunks = done.value
            except Exception as exc:
                self._flush(out)
                self._handler_failed(exc)
                return
            if self.answers:  # answered at once, but after the answers still outstanding
                answer = Answer(0)
                answer.chunks, answer.ready = chunks, True
                self.answers.append(answer)
                continue
            if chunks is not None and not (
                session.failed_authentication or session.newly_authenticated or session.throttle_ms > 0
            ):
                out += chunks
                out_bytes += 4 + _SIZE.unpack_from(chunks[0])[0]  # type: ignore[arg-type]  # the size prefix
                if out_bytes >= COALESCE_BYTES:
                    out_bytes = self._flush(out)
                continue
            out_bytes = self._flush(out)
            self._after_response(chunks)
            pending = self.pending  # (a failed login replaces it)
        self._flush(out)
        self._update_reading()

    def _answer(self, frame: bytearray) -> None:
        """`_process` for one request arriving alone with nothing queued (no reading to pause or
        resume, nothing to gather)."""
        session = self.session
        if session.sasl is not None and session.sasl.raw_tokens:
            self._raw_sasl_token(frame)
            return
        chunks: Chunks | None
        try:
            result = self.dispatcher.handle(frame, self.client_host, self.connection_id, session)
            if result is None or isinstance(result, list):
                chunks = result
            elif isinstance(result, AfterAppend):  # appended; its answer waits: go on meanwhile
                coro = result.awaitable
                self._wait_in_order(Resumed(coro, coro.send(None)), len(frame), serial=False)
                return
            else:  # the handler waits: it finishes in a task
                resumed = Resumed(result, result.send(None))
                self.busy = asyncio.get_running_loop().create_task(self._await_response(resumed))
                return
        except StopIteration as done:
            chunks = done.value
        except Exception as exc:
            self._handler_failed(exc)
            return
        if chunks is not None and not (
            session.failed_authentication or session.newly_authenticated or session.throttle_ms > 0
        ):
            self._send(chunks)
        else:
            self._after_response(chunks)

    def _flush(self, out: Chunks) -> int:
        """Write the answers gathered so far (in order, before anything else is sent); returns 0,
        the bytes now gathered."""
        if out:
            transport = self.transport
            if transport is not None and not self.closed:
                self._send(out)
            out.clear()
        return 0

    async def _await_response(self, pending: Resumed) -> None:
        try:
            chunks = await pending
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.busy = None
            self._handler_failed(exc)
            return
        self.busy = None
        if self.closed:
            return
        self._after_response(chunks)
        self._process()

    def _wait_in_order(self, resumed: Resumed, size: int, *, serial: bool) -> None:
        """A task finishes the handler; its answer takes the next slot. `serial`: it waits before
        appending, so nothing more is handled until it is done."""
        answer = Answer(size)
        if self.answers is _NO_ANSWERS:
            self.answers = collections.deque()
        self.answers.append(answer)
        self.pending_bytes += size
        answer.task = asyncio.get_running_loop().create_task(self._await_answer(answer, resumed))
        if serial:
            self.busy = answer.task

    async def _await_answer(self, answer: Answer, pending: Resumed) -> None:
        try:
            chunks = await pending
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.busy is answer.task:
                self.busy = None
            self._handler_failed(exc)  # closes the connection (with the answers behind it)
            return
        if self.busy is answer.task:
            self.busy = None
        answer.chunks, answer.ready, answer.task = chunks, True, None
        if self.closed:
            return
        self._send_answers()
        self._process()

    def _send_answers(self) -> None:
        """Sends the ready answers at the head of the slots, in order, in one write."""
        answers = self.answers
        out: Chunks = []
        while answers and answers[0].ready:
            answer = answers.popleft()
            self.pending_bytes -= answer.size
            if answer.chunks is not None:
                out += answer.chunks
        if not answers:
            self.answers = _NO_ANSWERS
        self._after_response(out or None)  # (sends them; a throttled client is muted after them)

    def _after_response(self, chunks: Chunks | None) -> None:
        """Sends a response and does what security asks after it: close after a failed login (after
        the failure delay), accept full-size frames after a login, stay muted while throttled."""
        session, transport = self.session, self.transport
        if transport is None or self.closed:
            return
        if session.failed_authentication:
            self._close_after_failed_login(chunks)
            return
        if chunks is not None:
            self._send(chunks)
        if session.newly_authenticated:
            session.newly_authenticated = False
            self.reader.set_max_request_size(self.max_request_size)
        if session.throttle_ms > 0:
            self._mute(session.throttle_ms)
            session.throttle_ms = 0

    def _send(self, chunks: Chunks) -> None:
        """Writes a response. Its file regions (a follower's fetched batches) go to the socket with
        sendfile, and so does everything before and after them while the socket takes it and the
        transport has nothing buffered (the order of bytes is kept); the rest goes through the
        transport, regions read into memory. A region the file no longer holds closes the
        connection (the frame's size is already sent)."""
        transport = self.transport
        assert transport is not None
        for c in chunks:
            if type(c) is FileRegion:
                break
        else:  # no region (every response but a follower's fetch): one cheap pass
            transport.writelines(chunks)  # type: ignore[arg-type]  # (no cast: no call, no type built)
            return
        fd = self.socket_fd if transport.get_write_buffer_size() == 0 else -1
        rest: list[bytes | bytearray | memoryview] = []
        try:
            for chunk in chunks:
                if fd >= 0:
                    sent = send_region(fd, chunk) if isinstance(chunk, FileRegion) else send_buffer(fd, chunk)
                    if sent == len(chunk):
                        continue
                    fd = -1  # the socket is full: the transport sends the rest when it can
                else:
                    sent = 0
                rest.append(chunk.read(sent) if isinstance(chunk, FileRegion) else memoryview(chunk)[sent:])
        except (OSError, EOFError) as exc:
            log.warning("connection %d: cannot send a response: %s; closing", self.connection_id, exc)
            transport.abort()
            return
        finally:
            for chunk in chunks:
                if isinstance(chunk, FileRegion):
                    chunk.close()
        if rest:
            transport.writelines(rest)

    def _raw_sasl_token(self, frame: bytearray) -> None:
        """SaslHandshake v0: the frame is a bare SASL token; the answer is a bare size-prefixed token."""
        sasl = self.session.sasl
        assert sasl is not None and self.transport is not None
        outcome = sasl.authenticate(bytes(frame), 0, self.dispatcher.ports.clock.now_ms())
        if outcome.failed:
            self.session.failed_authentication = True
            self._close_after_failed_login(None)
            return
        if outcome.newly_authenticated is not None:
            self.session.principal = KafkaPrincipal.user(outcome.newly_authenticated)
            self.reader.set_max_request_size(self.max_request_size)
        self.transport.writelines([len(outcome.auth_bytes).to_bytes(4, "big") + outcome.auth_bytes])

    def _close_after_failed_login(self, chunks: Chunks | None) -> None:
        if self.metrics is not None:
            self.metrics.authentication_failures.inc()
        log.info(
            "authentication failed on connection %d from %s (listener %s)",
            self.connection_id,
            self.client_host,
            self.session.listener,
        )
        self.closed = True  # nothing else is served; the answer goes out after the delay
        self.pending = _NO_PENDING
        self.pending_bytes = 0
        transport = self.transport
        assert transport is not None
        transport.pause_reading()

        def answer_and_close() -> None:
            if chunks is not None and not transport.is_closing():
                self._send(chunks)
            transport.close()

        asyncio.get_running_loop().call_later(
            self.settings.failed_authentication_delay_ms / 1000, answer_and_close
        )

    def _mute(self, throttle_ms: int) -> None:
        """KIP-219: the response went out with throttle_time_ms; read nothing more until it passed."""
        self.muted = True
        self._update_reading()
        asyncio.get_running_loop().call_later(throttle_ms / 1000, self._unmute)

    def _unmute(self) -> None:
        self.muted = False
        if self.closed:
            return
        if self.pending and self.busy is None:
            self._process()
        else:
            self._update_reading()

    def _update_reading(self) -> None:
        transport = self.transport
        if transport is None or self.closed:
            return
        should_pause = (
            self.writing_paused
            or self.muted
            or len(self.pending) + len(self.answers) >= MAX_QUEUED_REQUESTS
            or self.pending_bytes >= MAX_QUEUED_BYTES
        )
        if should_pause and not self.reading_paused:
            transport.pause_reading()
            self.reading_paused = True
        elif not should_pause and self.reading_paused:
            transport.resume_reading()
            self.reading_paused = False

    def queued(self) -> int:
        """Requests received and not answered yet."""
        if self.answers:
            return len(self.pending) + len(self.answers)
        return len(self.pending) + (1 if self.busy is not None else 0)

    def idle_sweep(self) -> int:
        """Count one idle-connection sweep; how many passed in a row with no activity: nothing
        received, no request in progress, and no answer bytes written. Like Kafka's Selector, which
        counts any read or write on the socket, an answer still draining to a slow reader keeps
        the connection; one the client stopped reading does not."""
        transport = self.transport
        unsent = transport.get_write_buffer_size() if transport is not None else 0
        if self.busy is not None or self.pending or self.answers or unsent != self.idle_unsent:
            self.idle_sweeps = 0
        else:
            self.idle_sweeps += 1
        self.idle_unsent = unsent
        return self.idle_sweeps

    def close_idle(self) -> None:
        if not self.closed:  # (not again while its last answers are flushed)
            self._abort("idle for connections.max.idle.ms")

    def _handler_failed(self, exc: Exception) -> None:
        """CloseConnection closes with its reason; anything else (the dispatcher answers a failing
        handler itself, with UNKNOWN_SERVER_ERROR) is a bug, logged with its traceback."""
        if isinstance(exc, CloseConnection):
            self._abort(str(exc))
            return
        log.error("handler failed; closing connection %d", self.connection_id, exc_info=exc)
        self._abort("internal error")

    def _abort(self, reason: str) -> None:
        log.info("closing connection %d from %s: %s", self.connection_id, self.client_host, reason)
        self.closed = True
        self.pending = _NO_PENDING
        self.pending_bytes = 0
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        self._abort("broker shutting down")
