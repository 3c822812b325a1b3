"""Example submissions of pooling_layers: correct variants and typical mistakes, with the scores they must keep.

Each example replaces some solution cells by grade id (``cells``); the others keep the reference
solution. ``expected`` gives, per grade id, the fraction of its points the example must keep
(a grade id not named keeps all of them).
"""

from __future__ import annotations

from grader.course.examples import Variant

ASSIGNMENT = "pooling_layers"

LOOPS = '''
def {name}(maps, kernel_size, stride=None):
    stride = kernel_size if stride is None else stride
    maps = np.asarray(maps)
    channels, height, width = maps.shape
    out_h, out_w = (height - kernel_size) // stride + 1, (width - kernel_size) // stride + 1
    out = np.zeros((channels, out_h, out_w))
    for c in range(channels):
        for i in range(out_h):
            for j in range(out_w):
                window = maps[c, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
                out[c, i, j] = {reduce}(window)
    return out
'''

SLIDING_WINDOWS = '''
def {name}(maps, kernel_size, stride=None):
    stride = stride or kernel_size
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(maps), (kernel_size, kernel_size), axis=(1, 2))
    return windows[:, ::stride, ::stride].{reduce}(axis=(-2, -1))
'''

AS_STRIDED_HELPER = '''
def _windows(maps, kernel_size, stride):
    """Every window of every channel: (C, H_out, W_out, k, k), no copy."""
    maps = np.ascontiguousarray(maps)
    channels, height, width = maps.shape
    shape = (channels, (height - kernel_size) // stride + 1, (width - kernel_size) // stride + 1,
             kernel_size, kernel_size)
    c, h, w = maps.strides
    return np.lib.stride_tricks.as_strided(maps, shape, (c, h * stride, w * stride, h, w), writeable=False)


def max_pool2d(maps, kernel_size, stride=None):
    return _windows(maps, kernel_size, stride or kernel_size).max(axis=(3, 4))
'''

AVG_FROM_HELPER = '''
def avg_pool2d(maps, kernel_size, stride=None):
    return _windows(np.asarray(maps, dtype=float), kernel_size, stride or kernel_size).mean(axis=(3, 4))
'''

CEIL_MODE = '''
def {name}(maps, kernel_size, stride=None):
    stride = stride or kernel_size
    channels, height, width = maps.shape
    out_h, out_w = -(-(height - kernel_size) // stride) + 1, -(-(width - kernel_size) // stride) + 1
    out = np.zeros((channels, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = maps[:, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
            out[:, i, j] = {reduce}(window, axis=(1, 2))
    return out
'''

STRIDE_IGNORED = SLIDING_WINDOWS.replace("stride = stride or kernel_size", "stride = kernel_size")

DEFAULT_STRIDE_ONE = SLIDING_WINDOWS.replace("stride=None):\n    stride = stride or kernel_size\n", "stride=1):\n")

AVG_OVER_PADDED_ZEROS = '''
def avg_pool2d(maps, kernel_size, stride=None):
    stride = stride or kernel_size
    channels, height, width = maps.shape
    out_h, out_w = -(-(height - kernel_size) // stride) + 1, -(-(width - kernel_size) // stride) + 1
    padded = np.zeros((channels, (out_h - 1) * stride + kernel_size, (out_w - 1) * stride + kernel_size))
    padded[:, :height, :width] = maps
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kernel_size, kernel_size), axis=(1, 2))
    return windows[:, ::stride, ::stride].sum(axis=(-2, -1)) / kernel_size ** 2
'''

AVG_INTEGER_TRUNCATION = '''
def avg_pool2d(maps, kernel_size, stride=None):
    stride = stride or kernel_size
    channels, height, width = maps.shape
    out_h, out_w = (height - kernel_size) // stride + 1, (width - kernel_size) // stride + 1
    out = np.zeros_like(maps, shape=(channels, out_h, out_w))
    windows = np.lib.stride_tricks.sliding_window_view(maps, (kernel_size, kernel_size), axis=(1, 2))
    out[...] = windows[:, ::stride, ::stride].mean(axis=(-2, -1))
    return out
'''

CHANNELS_LAST = '''
def max_pool2d(maps, kernel_size, stride=None):
    stride = stride or kernel_size
    windows = np.lib.stride_tricks.sliding_window_view(maps, (kernel_size, kernel_size), axis=(0, 1))
    return windows[::stride, ::stride].max(axis=(-2, -1))
'''

USES_TORCH = '''
def max_pool2d(maps, kernel_size, stride=None):
    return F.max_pool2d(torch.from_numpy(np.asarray(maps, dtype=float)), kernel_size, stride=stride).numpy()
'''

ANSWERS_OFF = '''
p1_shape = (16, 100, 100)
p2_shape = (8, 15, 15)
p3_params = 0
p4_kept = 0.75
'''


def both(template: str, max_reduce: str, avg_reduce: str) -> dict[str, str]:
    """The two solution cells written from one template."""
    return {"max_pool2d": template.format(name="max_pool2d", reduce=max_reduce),
            "avg_pool2d": template.format(name="avg_pool2d", reduce=avg_reduce)}


CORRECT = (
    Variant("correct-reference-pooling_layers", ASSIGNMENT),
    Variant("correct-pooling-loops", ASSIGNMENT, both(LOOPS, "np.max", "np.mean")),
    Variant("correct-pooling-sliding-window-view", ASSIGNMENT, both(SLIDING_WINDOWS, "max", "mean")),
    Variant("correct-pooling-as-strided-shared-helper", ASSIGNMENT,
            {"max_pool2d": AS_STRIDED_HELPER, "avg_pool2d": AVG_FROM_HELPER}),
    Variant("correct-pooling-answers-as-lists-and-numpy", ASSIGNMENT, {"pooling_answers": '''
p1_shape = [16, 50, 50]
p2_shape = np.array([8, 15, 15])
p3_params = np.int64(0)
p4_kept = 1 / 4
'''}),
)

MISTAKES = (
    Variant("mistake-pooling-ceil-mode", ASSIGNMENT, both(CEIL_MODE, "np.max", "np.mean"),
            {"max_pool2d": 0.0, "avg_pool2d": 0.0}),
    Variant("mistake-pooling-stride-ignored", ASSIGNMENT, both(STRIDE_IGNORED, "max", "mean"),
            {"max_pool2d": 4 / 5, "avg_pool2d": 4 / 5}),
    Variant("mistake-pooling-default-stride-one", ASSIGNMENT, both(DEFAULT_STRIDE_ONE, "max", "mean"),
            {"max_pool2d": 1 / 5, "avg_pool2d": 1 / 5}),
    Variant("mistake-avg-over-padded-zeros", ASSIGNMENT, {"avg_pool2d": AVG_OVER_PADDED_ZEROS}, {"avg_pool2d": 0.0}),
    Variant("mistake-avg-integer-maps-truncated", ASSIGNMENT, {"avg_pool2d": AVG_INTEGER_TRUNCATION},
            {"avg_pool2d": 4 / 5}),
    Variant("mistake-max-channels-last", ASSIGNMENT, {"max_pool2d": CHANNELS_LAST}, {"max_pool2d": 0.0}),
    Variant("mistake-max-uses-torch", ASSIGNMENT, {"max_pool2d": USES_TORCH}, {"max_pool2d": 4 / 5}),
    Variant("mistake-pooling-answers-off", ASSIGNMENT, {"pooling_answers": ANSWERS_OFF}, {"pooling_answers": 2 / 4}),
)

EXAMPLES = CORRECT + MISTAKES
