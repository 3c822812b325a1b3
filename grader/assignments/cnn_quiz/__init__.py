"""The cnn_quiz assignment: output-size and parameter-count formulas, and the lesson's shape quiz."""

EXPORTED_NAMES = ("q1_shape", "q1_params", "q2_shape", "q2_params", "q3_depth", "q3_size", "q3_flat", "q4_padding")
