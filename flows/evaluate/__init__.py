"""Scoring any model on a benchmark release (or an R4D-Bench JSON): R4D-Bench's 12 columns with error bars."""
