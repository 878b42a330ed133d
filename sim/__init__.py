"""Product Leadership Sandbox: a SimPy model of product teams under aligned or drifting incentives."""

__version__ = "0.1.0"
