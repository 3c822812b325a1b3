"""The course: its folder layout, its assignments' catalog, settings and defaults."""
