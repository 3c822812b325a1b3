"""Example submissions of cnn_quiz: the reference, correct variants and mistakes, with their scores.

Each example replaces some solution cells by grade id; the others keep the reference solution.
``expected`` gives, per grade id, the fraction of its points the example must keep (a grade id
not named keeps all of them).
"""

from __future__ import annotations

from grader.course.examples import Variant

QUIZ = [
    Variant("mistake-size-without-floor", "cnn_quiz", {"conv_output_size": '''
def conv_output_size(w_in, kernel_size, stride=1, padding=0):
    return (w_in + 2 * padding - kernel_size) / stride + 1
'''}, {"conv_output_size": 0.0}),
    Variant("mistake-params-without-bias", "cnn_quiz", {"conv_param_count": '''
def conv_param_count(in_channels, out_channels, kernel_size, bias=True):
    return out_channels * in_channels * kernel_size ** 2
'''}, {"conv_param_count": 0.0}),
    Variant("mistake-quiz-shapes-hwc", "cnn_quiz", {"quiz_answers": '''
q1_shape = (100, 100, 16)
q1_params = 80
q2_shape = [100, 100, 32]
q2_params = 4640
q3_depth, q3_size, q3_flat = 20, 16, 5120
q4_padding = 3
'''}, {"quiz_answers": 6 / 8}),
    Variant("correct-numpy-numbers-and-lists", "cnn_quiz", {"quiz_answers": '''
q1_shape = [16, 100, 100]
q1_params = np.int64(80)
q2_shape = torch.Size([32, 100, 100])
q2_params = 4640.0
q3_depth, q3_size, q3_flat = np.int32(20), 16, 20 * 16 * 16
q4_padding = (7 - 1) // 2
'''}),
]

QUIZ.append(Variant("correct-with-stderr-warnings", "cnn_quiz", {"quiz_answers": '''
import sys
import warnings
warnings.warn("this UserWarning on stderr must not cost points", UserWarning)
print("some noise on stderr", file=sys.stderr)
q1_shape, q1_params, q2_shape, q2_params = (16, 100, 100), 80, (32, 100, 100), 4640
q3_depth, q3_size, q3_flat, q4_padding = 20, 16, 5120, 3
'''}))


EXAMPLES = (Variant("correct-reference-cnn_quiz", "cnn_quiz"), *QUIZ)
