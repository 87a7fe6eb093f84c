"""`r4d stack`: the whole service stack on one machine without Docker (PostgreSQL, Prefect, Label Studio, review)."""
