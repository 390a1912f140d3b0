"""Node programs: each client and service of a topology runs as `python -m engines.nodes SPEC`.

The supervisor writes SPEC (JSON: the node's settings, its listeners, its
peers' endpoints, the telemetry endpoint, its parent's pid) and starts the
process. Node processes import neither pydantic nor numpy, so a killed
service restarts in a fraction of a second.
"""
