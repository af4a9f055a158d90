"""Subcommands of ``udrdr``; each module is imported only when its command runs."""
