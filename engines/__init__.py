"""Topology Lab engines: model, files, validation, runtime, transports, brokers. Never imports Qt."""

__version__ = "0.1.0"
