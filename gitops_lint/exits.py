"""The exit codes every command keeps (DESIGN.md): one definition, imported by the engine and the CLI."""

#: No finding at or above the failure threshold.
EXIT_CLEAN = 0
#: Findings (a compile refused, a stale `compile --check`).
EXIT_FINDINGS = 1
#: Usage, configuration or internal error; nothing could be read.
EXIT_ERROR = 2
#: Interrupted (128 + SIGINT, as shells report it): never 1, which means findings.
EXIT_INTERRUPTED = 130
