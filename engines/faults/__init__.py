"""Link faults without root: a controllable TCP proxy per link (see proxy.py)."""

from engines.faults.proxy import Faults, LinkProxy, ProxyHub

__all__ = ["Faults", "LinkProxy", "ProxyHub"]
