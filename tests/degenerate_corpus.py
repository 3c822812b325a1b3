"""Degenerate answers for every grade id of every assignment: each must score 0 on its own grade id.

KINDS are the five of issue 17: a constant; zeros of the right shape; the input returned
unchanged; random numbers; an object whose ``__eq__`` always says yes. CORPUS maps
(assignment, grade id) to kind -> the solution cells of the answer (other cells keep the
reference solution), or an :class:`NotApplicable` saying why the kind has no meaning there.
mnist_mlp's trained names come from training, which the corpus does not run: its answers
give them as ``exports`` beside an untrained ``model.pt`` (tests/test_degenerate_answers.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("constant", "zeros", "input-unchanged", "random", "always-equal")
YES = "    def __eq__(self, other):\n        return True\n    __hash__ = None\n"


@dataclass(frozen=True)
class Answer:
    """A degenerate answer: solution cells by grade id, and exported values that stand in for training."""

    cells: dict[str, str] = field(default_factory=dict)
    exports: dict[str, Any] | None = None


@dataclass(frozen=True)
class NotApplicable:
    """Why a kind of degenerate answer has no meaning for a grade id."""

    reason: str


def function(name: str, signature: str, body: str) -> Answer:
    """A solution cell defining ``name(signature)`` with ``body`` (``Yes`` classes available)."""
    classes = f"class YesInt(int):\n{YES}\n\nclass YesTuple(tuple):\n{YES}\n\n"
    return Answer({name: f"{classes}def {name}({signature}):\n{body}"})


def formulas(name: str, signature: str, first: str) -> dict[str, Answer]:
    """The five kinds for a cnn_quiz formula whose first argument is ``first``."""
    bodies = {"constant": "    return -1\n", "zeros": "    return 0\n", "input-unchanged": f"    return {first}\n",
              "random": "    return int(np.random.default_rng().integers(1, 10_000))\n",
              "always-equal": "    return YesInt(7)\n"}
    return {kind: function(name, signature, body) for kind, body in bodies.items()}


def quiz(values: str) -> Answer:
    """The quiz answers, every one given by ``values`` (a Python expression per name, ``Yes`` classes available)."""
    return Answer({"quiz_answers": f"class YesInt(int):\n{YES}\n\nclass YesTuple(tuple):\n{YES}\n\n{values}"})


QUIZ = {
    "constant": quiz("q1_shape = q2_shape = (1, 1, 1)\nq1_params = q2_params = q3_depth = q3_size = q3_flat = 1\n"
                     "q4_padding = 1\n"),
    "zeros": quiz("q1_shape = q2_shape = (0, 0, 0)\nq1_params = q2_params = q3_depth = q3_size = q3_flat = 0\n"
                  "q4_padding = 0\n"),
    "input-unchanged": quiz("q1_shape, q1_params = (1, 200, 200), 1\nq2_shape, q2_params = (16, 100, 100), 16\n"
                            "q3_depth, q3_size, q3_flat = 3, 130, 3 * 130 * 130\nq4_padding = 7\n"),
    "random": quiz("_r = np.random.default_rng()\n"
                   "q1_shape = q2_shape = tuple(int(v) for v in _r.integers(101, 999, 3))\n"
                   "q1_params, q2_params, q3_depth, q3_size, q3_flat, q4_padding = (int(v) for v in "
                   "_r.integers(101, 999, 6))\n"),
    "always-equal": quiz("q1_shape = q2_shape = YesTuple((1, 1, 1))\n"
                         "q1_params = q2_params = q3_depth = q3_size = q3_flat = q4_padding = YesInt(1)\n"),
}

KERNEL_CELL = "class YesTuple(tuple):\n" + YES + "\n\n"


def kernels(grade_id: str, name: str, size: int, then: str) -> dict[str, Answer]:
    """The five kinds for a custom_filters kernel ``name`` (``size`` square); ``then`` follows, as the lesson's."""
    identity = f"np.pad(np.ones((1, 1)), {size // 2})"
    values = {"constant": f"np.full(({size}, {size}), 1.0)", "zeros": f"np.zeros(({size}, {size}))",
              "input-unchanged": identity, "random": f"np.random.default_rng().normal(size=({size}, {size}))",
              "always-equal": f"YesTuple(tuple([0.5] * {size}) for _ in range({size}))"}
    return {kind: Answer({grade_id: f"{KERNEL_CELL}{name} = {value}\n{then}"}) for kind, value in values.items()}


SOBEL = kernels("sobel_x", "sobel_x", 3, "filtered_x = cv2.filter2D(gray, -1, np.asarray(sobel_x, dtype=float))\n")
SOBEL["input-unchanged"] = Answer({"sobel_x": "sobel_x = np.pad(np.ones((1, 1)), 1)\nfiltered_x = gray.copy()\n"})
BLUR = kernels("blur_then_edges", "blur_kernel", 3, "blurred_edges = cv2.filter2D(cv2.filter2D(gray, -1, "
               "np.asarray(blur_kernel, dtype=float)), -1, sobel_x)\n")
BLUR["input-unchanged"] = Answer({"blur_then_edges": "blur_kernel = np.pad(np.ones((1, 1)), 1)\n"
                                                     "blurred_edges = gray.copy()\n"})
HIGH_PASS = kernels("high_pass_5x5", "high_pass_5x5", 5, "")
HIGH_PASS["constant"] = Answer({"high_pass_5x5": "high_pass_5x5 = np.full((5, 5), 0.04)\n"})  # decimal weights

POOLING = "(maps, kernel_size, stride=None)"
POOLED_SHAPE = ("    s = stride or kernel_size\n    c, h, w = maps.shape\n"
                "    shape = (c, (h - kernel_size) // s + 1, (w - kernel_size) // s + 1)\n")


def poolings(name: str) -> dict[str, Answer]:
    """The five kinds for a pooling function."""
    bodies = {"constant": POOLED_SHAPE + "    return np.full(shape, 1.0)\n",
              "zeros": POOLED_SHAPE + "    return np.zeros(shape)\n", "input-unchanged": "    return maps\n",
              "random": POOLED_SHAPE + "    return np.random.default_rng().normal(size=shape)\n",
              "always-equal": "    class Yes:\n        shape = maps.shape\n" + YES.replace("    ", "        ")
                              + "    return Yes()\n"}
    return {kind: function(name, POOLING[1:-1], body) for kind, body in bodies.items()}


def pooling_answers(values: str) -> Answer:
    return Answer({"pooling_answers": values})


CONVOLVE = {kind: function("convolve2d", "image, kernel", body) for kind, body in {
    "constant": "    return np.full(np.shape(image), 1.0)\n", "zeros": "    return np.zeros(np.shape(image))\n",
    "input-unchanged": "    return np.asarray(image, dtype=np.float64)\n",
    "random": "    return np.random.default_rng().normal(size=np.shape(image))\n",
    "always-equal": "    return YesTuple(tuple(float(v) for v in row) for row in np.asarray(image))\n"}.items()}

CORPUS: dict[tuple[str, str], dict[str, Answer | NotApplicable]] = {
    ("cnn_quiz", "conv_output_size"): formulas("conv_output_size", "w_in, kernel_size, stride=1, padding=0", "w_in"),
    ("cnn_quiz", "conv_param_count"): formulas("conv_param_count", "in_channels, out_channels, kernel_size, bias=True",
                                               "in_channels"),
    ("cnn_quiz", "quiz_answers"): QUIZ,
    ("custom_filters", "sobel_x"): SOBEL,
    ("custom_filters", "blur_then_edges"): {**BLUR, "constant": Answer({"blur_then_edges": (
        "blur_kernel = np.full((3, 3), 1.0)  # a constant of 1/9 is the right answer: this one is 1\n"
        "blurred_edges = cv2.filter2D(cv2.filter2D(gray, -1, blur_kernel), -1, sobel_x)\n")})},
    ("custom_filters", "high_pass_5x5"): HIGH_PASS,
    ("custom_filters", "convolve2d"): CONVOLVE,
    ("pooling_layers", "max_pool2d"): poolings("max_pool2d"),
    ("pooling_layers", "avg_pool2d"): poolings("avg_pool2d"),
    ("pooling_layers", "pooling_answers"): {
        "constant": pooling_answers("p1_shape = p2_shape = (1, 1, 1)\np3_params = 1\np4_kept = 1.0\n"),
        "zeros": NotApplicable("0 is the right p3_params (a pooling layer learns nothing): all zeros earn that "
                               "answer's share only, tested in test_pooling_layers_content.py"),
        "input-unchanged": pooling_answers("p1_shape = (16, 100, 100)\np2_shape = (8, 31, 31)\np3_params = 4\n"
                                           "p4_kept = 1.0\n"),
        "random": pooling_answers("p1_shape, p2_shape = tuple(np.random.default_rng().integers(1, 99, 3)), (7, 7, 7)\n"
                                  "p3_params = 17\np4_kept = float(np.random.default_rng().uniform(0.3, 1))\n"),
        "always-equal": pooling_answers("class Yes:\n" + YES + "p1_shape = p2_shape = p3_params = p4_kept = Yes()\n"),
        "strings": pooling_answers("p1_shape, p2_shape, p3_params, p4_kept = '(16, 50, 50)', '(8, 15, 15)', '0', "
                                   "'0.25'\n"),
    },
}

FIXED = ("class YesTuple(tuple):\n" + YES + "\n\nclass Fixed(nn.Module):\n    \"\"\"A layer whose output is made "
         "by `make` from the input.\"\"\"\n\n    def __init__(self, make):\n        super().__init__()\n"
         "        self.make = make\n\n    def forward(self, x):\n        return self.make(x)\n\n\n")
MADE = {"constant": "torch.full({shape}, 1.0)", "zeros": "torch.zeros({shape})", "input-unchanged": "x",
        "random": "torch.randn({shape})", "always-equal": "YesTuple(torch.zeros({shape}))"}

CONV_NET = '''
class Net(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=(4, 4), bias=False)
        self.conv.weight = nn.Parameter(weight)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        n, _, h, w = x.shape
        made = lambda shape: {made}  # noqa: E731
        return made((n, 4, h - 3, w - 3)), made((n, 4, h - 3, w - 3)), made((n, 4, (h - 3) // 2, (w - 3) // 2))


model = Net(weight)
'''

LESSON = '''conv1 = Fixed(lambda x: {one})
conv2 = Fixed(lambda x: {two})
features = nn.Sequential(Fixed(lambda x: {three}))
'''

CNN = '''
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.pool1 = nn.Conv2d(3, 10, 3), nn.MaxPool2d(4, 4)
        self.conv2, self.pool2 = nn.Conv2d(10, 20, 5, padding=2), nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(20 * 16 * 16, 10)

    def forward(self, x):
        return {made}


cnn = CNN()
'''


def conv_layers(grade_id: str) -> dict[str, Answer]:
    """The five kinds for a conv_layers grade id: its layers right where the contract names them, outputs made up."""
    answers = {}
    for kind, made in MADE.items():
        if grade_id == "conv_net":
            cell = CONV_NET.format(made=made.format(shape="shape"))
        elif grade_id == "lesson_layers":
            cell = LESSON.format(**{name: made.format(shape=f"(x.shape[0], {shape})") for name, shape in (
                ("one", "16, 100, 100"), ("two", "32, 100, 100"), ("three", "32, 25, 25"))})
        else:
            cell = CNN.format(made=made.format(shape="(x.shape[0], 10)"))
        answers[kind] = Answer({grade_id: FIXED + cell})
    return answers


MLP = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 512), nn.Linear(512, 10)

    def forward(self, x):
        return {made}


model = Net()
'''
LOSS = {"constant": "criterion = lambda scores, labels: torch.tensor(1.0)\n"
                    "optimizer = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.01)\n",
        "zeros": "criterion = lambda scores, labels: torch.zeros(())\noptimizer = torch.zeros(())\n",
        "input-unchanged": "criterion = lambda scores, labels: scores\noptimizer = model\n",
        "random": "criterion = lambda scores, labels: torch.rand(())\n"
                  "optimizer = torch.optim.SGD([torch.rand(1, requires_grad=True)], lr=0.01)\n",
        "always-equal": "class YesInt(int):\n" + YES + "\n\ncriterion = optimizer = YesInt(1)\n"}


class YesFloat(float):
    """A float that says it equals everything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


class YesTuple(tuple):
    """A tuple that says it equals everything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


def history(kind: str, epochs: int = 15) -> list[float] | YesTuple:
    """A loss history of ``kind`` (random numbers from a fixed seed: the test must not flake)."""
    import numpy as np

    values = {"constant": [0.5] * epochs, "zeros": [0.0] * epochs,
              "random": np.random.default_rng(17).uniform(0, 3, epochs).tolist()}
    return YesTuple([0.5] * epochs) if kind == "always-equal" else values[kind]


ACCURACY = {"constant": 0.5, "zeros": 0.0, "random": 0.6394, "always-equal": YesFloat(0.5)}
NOTHING_IN = ("{} trains (or measures) the given model and returns nothing computed from an input: the nearest "
              "answer, the untrained model saved as model.pt, is part of every other row")

CORPUS.update({
    ("conv_layers", grade_id): conv_layers(grade_id) for grade_id in ("conv_net", "lesson_layers", "cnn_classifier")})
CORPUS.update({
    ("mnist_mlp", "mlp_model"): {
        kind: Answer({"mlp_model": FIXED + MLP.format(made=made.format(shape="(x.shape[0], 10)"))})
        for kind, made in MADE.items()},
    ("mnist_mlp", "mlp_loss_optimizer"): {kind: Answer({"mlp_loss_optimizer": cell}) for kind, cell in LOSS.items()},
    ("mnist_mlp", "mlp_train"): {
        **{kind: Answer(exports={"train_losses": history(kind), "valid_losses": history(kind), "test_accuracy": 0.5})
           for kind in ("constant", "zeros", "random", "always-equal")},
        "input-unchanged": NotApplicable(NOTHING_IN.format("mlp_train"))},
    ("mnist_mlp", "mlp_test"): {
        **{kind: Answer(exports={"train_losses": history("constant"), "valid_losses": history("constant"),
                                 "test_accuracy": accuracy}) for kind, accuracy in ACCURACY.items()},
        "input-unchanged": NotApplicable(NOTHING_IN.format("mlp_test"))},
})
