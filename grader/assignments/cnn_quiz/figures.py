"""cnn_quiz has no feedback picture: its answers are numbers, told in the checks' messages."""

FIGURES = ()
