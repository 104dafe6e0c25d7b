"""Flux's view of the repository: what Flux really applies, and which Flux release runs it."""
