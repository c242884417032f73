"""Image stream semantics as pure functions: tag history, generations, schedules, triggers.

The controller and the CLI both apply these rules (the controller when it
imports and moves tags, the CLI when it edits spec tags and shows history),
so they live in one place below both.  Imports only ``builder.api``.
"""
