"""Perceive stage: expert models over clips, outputs in the content-addressed artifact store."""
