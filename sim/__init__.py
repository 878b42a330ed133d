"""Product Leadership Sandbox: a SimPy model of product teams under aligned or drifting incentives."""

__version__ = "0.1.0"

from sim import compiled as _compiled

# The replication engine's compiled modules (see sim.compiled), when built from these sources.
_compiled.enable(__path__)
