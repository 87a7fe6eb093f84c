"""The lmms-eval task shipped inside every release (copied as files; lmms-eval itself is not a dependency)."""
