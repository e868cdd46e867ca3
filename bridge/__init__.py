"""Continuo: a real-time neural MIDI companion (import package ``bridge``)."""

__version__ = "0.1.0"
