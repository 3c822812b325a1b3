"""The conv_layers assignment: a conv -> ReLU -> max-pool network, the lesson's layers, and a small CNN."""

EXPORTED_NAMES: tuple[str, ...] = ()  # the probes call the student's layers; nothing is exported
