"""The conv_layers assignment: a conv -> ReLU -> max-pool network, the lesson's layers, and a small CNN."""

EXPORTED_NAMES: tuple[str, ...] = ()  # the probes call the student's layers; nothing is exported


def probe_names() -> dict[str, object]:
    """The grader's own ``gray_img`` (the probe does not run the plotting cell that loads it)."""
    from grader.assignments.conv_layers.probe import locked_gray_img

    return {"gray_img": locked_gray_img()}
