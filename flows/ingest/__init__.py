"""Ingest stage: the videos and scenes the pipeline starts from."""
