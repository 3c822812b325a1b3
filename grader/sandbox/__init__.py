"""Where student code runs: the jail, its file tree and environment, and the limits it cannot lift."""
