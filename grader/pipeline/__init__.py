"""One submission's way through the grader: ingest, rebuild, sanitize, execute, export, read back, score."""
