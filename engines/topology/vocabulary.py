"""The lab's fixed vocabulary: styles, transports, and which style each transport can carry.

Kept apart from the model so that validation, the GUI's palette and the runtime
all read one table instead of each keeping its own idea of what is allowed.
"""

from __future__ import annotations

from enum import Enum


class Style(str, Enum):
    """Interaction styles of the seed text (one-to-one and one-to-many)."""

    REQUEST_RESPONSE = "request-response"
    ASYNC_REQUEST_RESPONSE = "async-request-response"
    NOTIFICATION = "notification"
    PUBLISH_SUBSCRIBE = "publish-subscribe"
    PUBLISH_ASYNC_RESPONSES = "publish-async-responses"

    @property
    def expects_reply(self) -> bool:
        return self in (
            Style.REQUEST_RESPONSE,
            Style.ASYNC_REQUEST_RESPONSE,
            Style.PUBLISH_ASYNC_RESPONSES,
        )

    @property
    def one_to_many(self) -> bool:
        return self in (Style.PUBLISH_SUBSCRIBE, Style.PUBLISH_ASYNC_RESPONSES)


class Transport(str, Enum):
    ZMQ = "zmq"
    AMQP = "amqp"
    HTTP = "http"
    SMTP = "smtp"  # mail: a client sends to a mail service (aiosmtpd), one way
    IMAP = "imap"  # mail: a reader service polls a mail service's mailbox (pymap)

    @property
    def brokered(self) -> bool:
        return self is Transport.AMQP

    @property
    def mail(self) -> bool:
        return self in (Transport.SMTP, Transport.IMAP)

    @property
    def client_side(self) -> bool:
        """Whether a client may speak it (imap is how a reader service reads a mailbox)."""
        return self is not Transport.IMAP


class NodeKind(str, Enum):
    CLIENT = "client"
    SERVICE = "service"
    BROKER = "broker"


# How each style maps onto each transport (DESIGN.md). A missing entry means
# the transport cannot carry the style and a topology asking for it is invalid.
STYLE_MAPPING: dict[Transport, dict[Style, str]] = {
    Transport.ZMQ: {
        Style.REQUEST_RESPONSE: "REQ/REP, Lazy Pirate retries",
        Style.ASYNC_REQUEST_RESPONSE: "DEALER/ROUTER, many in flight, matched by id",
        Style.NOTIFICATION: "PUSH/PULL",
        Style.PUBLISH_SUBSCRIBE: "PUB/SUB",
        Style.PUBLISH_ASYNC_RESPONSES: "PUB out, replies to a ROUTER, collected until timeout",
    },
    Transport.AMQP: {
        Style.REQUEST_RESPONSE: "RPC: reply_to + correlation_id, client blocks",
        Style.ASYNC_REQUEST_RESPONSE: "RPC with many in flight",
        Style.NOTIFICATION: "default exchange to a named queue, competing consumers",
        Style.PUBLISH_SUBSCRIBE: "fanout or topic exchange, one queue per subscriber",
        Style.PUBLISH_ASYNC_RESPONSES: "fanout + reply_to, collected until timeout",
    },
    Transport.HTTP: {
        Style.REQUEST_RESPONSE: "POST, client blocks",
        Style.ASYNC_REQUEST_RESPONSE: "concurrent POSTs",
        Style.NOTIFICATION: "POST, 202 Accepted",
    },
    Transport.SMTP: {
        Style.NOTIFICATION: "MAIL, RCPT, DATA; 250 after the commit, Message-ID is the message ID",
    },
    Transport.IMAP: {
        Style.NOTIFICATION: "reader polls: SEARCH UNSEEN, FETCH, commit, STORE \\Seen",
    },
}


def supports(transport: Transport, style: Style) -> bool:
    return style in STYLE_MAPPING[transport]


def transports_for(style: Style) -> list[Transport]:
    return [t for t in Transport if supports(t, style)]


def styles_for(transport: Transport) -> list[Style]:
    return list(STYLE_MAPPING[transport])
