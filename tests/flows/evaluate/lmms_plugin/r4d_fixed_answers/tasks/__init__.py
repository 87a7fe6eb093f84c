"""lmms-eval looks for a plugin's `tasks` subpackage; the task itself comes from the release (--include_path)."""
