"""Neighbouring benchmark formats (R4D-Bench JSON, STI-Bench parquet, VLM4D JSON): read into and write from
one neutral item, so sources can be mixed."""
