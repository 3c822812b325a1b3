"""Example submissions of custom_filters: the reference, correct variants and mistakes, with their scores.

Each example replaces some solution cells by grade id; the others keep the reference solution.
``expected`` gives, per grade id, the fraction of its points the example must keep (a grade id
not named keeps all of them).
"""

from __future__ import annotations

from grader.course.examples import Variant

CONVOLVE_PAD_WINDOWS = '''
def convolve2d(image, kernel):
    k = kernel.shape[0] // 2
    padded = np.pad(np.asarray(image, dtype=float), k)
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel).astype(np.float64)
'''

CONVOLVE_FLIPPED = CONVOLVE_PAD_WINDOWS.replace("windows, kernel)", "windows, kernel[::-1, ::-1])")

CONVOLVE_WITH_CV2 = '''
def convolve2d(image, kernel):
    return cv2.filter2D(image.astype(float), cv2.CV_64F, kernel, borderType=cv2.BORDER_CONSTANT)
'''

SOBEL_Y = '''
sobel_x = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
filtered_x = cv2.filter2D(gray, -1, sobel_x)
'''

FILTERS = [
    Variant("correct-negated-sobel", "custom_filters", {"sobel_x": '''
sobel_x = -np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
filtered_x = cv2.filter2D(gray, -1, sobel_x)
'''}),
    Variant("correct-5x5-blur", "custom_filters", {"blur_then_edges": '''
blur_kernel = np.ones((5, 5)) / 25
blurred_edges = cv2.filter2D(cv2.filter2D(gray, -1, blur_kernel), -1, sobel_x)
'''}),
    Variant("correct-convolve2d-pad-and-windows", "custom_filters", {"convolve2d": CONVOLVE_PAD_WINDOWS}),
    Variant("mistake-sobel-wrong-direction", "custom_filters", {"sobel_x": SOBEL_Y}, {"sobel_x": 0.0}),
    Variant("mistake-convolve2d-flips-kernel", "custom_filters", {"convolve2d": CONVOLVE_FLIPPED},
            {"convolve2d": 0.0}),
    Variant("mistake-convolve2d-calls-opencv", "custom_filters", {"convolve2d": CONVOLVE_WITH_CV2},
            {"convolve2d": 4 / 5}),
    Variant("mistake-blur-not-normalised", "custom_filters", {"blur_then_edges": '''
blur_kernel = np.ones((3, 3))
blurred_edges = cv2.filter2D(cv2.filter2D(gray, -1, blur_kernel), -1, sobel_x)
'''}, {"blur_then_edges": 0.0}),
    Variant("mistake-convolve2d-reflect-padding", "custom_filters",
            {"convolve2d": CONVOLVE_PAD_WINDOWS.replace("np.pad(np.asarray(image, dtype=float), k)",
                                                        "np.pad(np.asarray(image, dtype=float), k, mode='reflect')")},
            {"convolve2d": 0.0}),
    Variant("mistake-high-pass-integer-weights", "custom_filters", {"high_pass_5x5": '''
high_pass_5x5 = -np.ones((5, 5))
high_pass_5x5[2, 2] = 24
'''}, {"high_pass_5x5": 2 / 3}),
]


EXAMPLES = (Variant("correct-reference-custom_filters", "custom_filters"), *FILTERS)
