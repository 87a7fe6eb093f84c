"""Prefect flows, one subpackage per stage, plus the end-to-end pipeline and the `r4d` command line."""
