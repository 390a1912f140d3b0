"""Length limits on the real broker, through the runtime (one shared node).

Slow consumers (20 ms a message, one at a time) behind fast publishers, so
each queue fills to its limit (x-max-length 50) and stays full:
- drop-head (RabbitMQ's default): the oldest go, dead-lettered with reason
  `maxlen`;
- reject-publish: the broker nacks each publish past the limit; a client
  with no retries gives those up: `nacked`, neither lost nor in doubt;
- reject-publish-dlx: nacked and dead-lettered too;
- x-max-length-bytes with drop-head: whatever the consumer does not get,
  the dead-letter queue does.
"""

from __future__ import annotations

import textwrap
import uuid

import pytest

from engines.topology import topofile
from tests.brokers.conftest import isolate

pytestmark = pytest.mark.rabbitmq

LIMITS = """
    version: 1
    name: length-limits
    nodes:
      - {name: head, kind: client, style: notification, transport: amqp, rate: 1000, count: 300}
      - {name: pushy, kind: client, style: notification, transport: amqp, rate: 1000, count: 300,
         retries: 0}
      - {name: pushy-dlx, kind: client, style: notification, transport: amqp, rate: 1000, count: 300,
         retries: 0}
      - {name: bulky, kind: client, style: notification, transport: amqp, rate: 1000, count: 300,
         payload_bytes: 1000}
      - {name: rabbit, kind: broker}
      - {name: slow-a, kind: service, reply: false, processing_ms: 20, prefetch: 1}
      - {name: slow-b, kind: service, reply: false, processing_ms: 20, prefetch: 1}
      - {name: slow-c, kind: service, reply: false, processing_ms: 20, prefetch: 1}
      - {name: slow-d, kind: service, reply: false, processing_ms: 20, prefetch: 1}
      - {name: morgue-a, kind: service, reply: false}
      - {name: morgue-c, kind: service, reply: false}
      - {name: morgue-d, kind: service, reply: false}
    links:
      - {from: head, to: rabbit, channel: head}
      - {from: pushy, to: rabbit, channel: pushy}
      - {from: pushy-dlx, to: rabbit, channel: pushy-dlx}
      - {from: bulky, to: rabbit, channel: bulky}
      - {from: rabbit, to: slow-a, channel: head, max_length: 50, dead_letter_exchange: "",
         dead_letter_routing_key: DEAD-A}
      - {from: rabbit, to: slow-b, channel: pushy, max_length: 50, overflow: reject-publish}
      - {from: rabbit, to: slow-c, channel: pushy-dlx, max_length: 50, overflow: reject-publish-dlx,
         dead_letter_exchange: "", dead_letter_routing_key: DEAD-C}
      - {from: rabbit, to: slow-d, channel: bulky, max_length_bytes: 20000, dead_letter_exchange: "",
         dead_letter_routing_key: DEAD-D}
      - {from: rabbit, to: morgue-a, channel: DEAD-A}
      - {from: rabbit, to: morgue-c, channel: DEAD-C}
      - {from: rabbit, to: morgue-d, channel: DEAD-D}
    """


@pytest.mark.timeout(180)
def test_full_queues_drop_the_oldest_or_refuse_the_newest(lab, shared_broker):
    suffix = uuid.uuid4().hex[:8]
    text = textwrap.dedent(LIMITS)
    for tag in ("DEAD-A", "DEAD-C", "DEAD-D"):
        text = text.replace(tag, f"{tag.lower()}-{suffix}")
    summary, _ = lab.run(isolate(topofile.loads(text).topology, shared_broker.url, suffix))
    n = summary["nodes"]
    # drop-head: what the consumer did not get was dead-lettered as maxlen, nothing lost
    got, dropped = n["slow-a"]["processed"], n["morgue-a"]["dead_lettered_maxlen"]
    assert got + dropped == 300 and dropped > 0 and n["morgue-a"]["processed"] == dropped
    assert n["head"]["lost"] == 0 and n["head"]["acknowledged"] == 300
    # reject-publish: the publishes past the limit are nacked, given up (retries 0): the client knows
    pushy = n["pushy"]
    assert pushy["nacks"] == pushy["errors_nack"] == pushy["nacked"] > 0
    assert n["slow-b"]["processed"] == pushy["acknowledged"] == 300 - pushy["nacked"]
    assert pushy["lost"] == 0 and pushy["in_doubt"] == 0
    # reject-publish-dlx: nacked, and dead-lettered as maxlen
    dlx = n["pushy-dlx"]
    assert dlx["nacks"] > 0 and n["morgue-c"]["dead_lettered_maxlen"] == dlx["nacks"]
    assert n["slow-c"]["processed"] + dlx["nacks"] == 300
    assert dlx["lost"] == 0 and dlx["in_doubt"] == 0
    # max-length-bytes: what did not fit went to the dead-letter queue
    kept, dead = n["slow-d"]["processed"], n["morgue-d"]["dead_lettered_maxlen"]
    assert dead > 0 and kept + dead == 300 and n["bulky"]["lost"] == 0
