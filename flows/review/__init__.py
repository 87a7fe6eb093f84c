"""Human review in Label Studio: push items as tasks, pull verdicts back, decide each item by policy."""
