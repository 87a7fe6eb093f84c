"""Generate stage: 4D facts per region from expert outputs, then R4D-Bench-style questions about them."""
