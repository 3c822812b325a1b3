"""Example submissions, built from the release by filling solution cells by grade id.

Each variant names what it must do: ``correct-*`` earns full marks, ``mistake-*`` loses the
points of the checks it breaks (``lost``: grade id -> fraction of its points that remains).
Solution cells a variant does not mention get the reference solution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.course import release_notebook, source_notebook

MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


@dataclass(frozen=True)
class Variant:
    """One submission: the assignment, replaced solution cells, and the score fraction per grade id."""

    name: str
    assignment: str
    cells: dict[str, str] = field(default_factory=dict)
    expected: dict[str, float] = field(default_factory=dict)


def reference_cells(course: Path, assignment: str) -> dict[str, str]:
    """The instructor's solution cells by grade id, without nbgrader's markers."""
    source = nbformat.read(source_notebook(course, assignment), as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: MARKER.sub("", cell.source)
            for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def build(course: Path, variant: Variant) -> nbformat.NotebookNode:
    """The release notebook with every solution cell filled in as ``variant`` says."""
    notebook = nbformat.read(release_notebook(course, variant.assignment), as_version=4)
    solutions = {**reference_cells(course, variant.assignment), **variant.cells}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in solutions:
            cell.source = solutions[grade_id]
    return notebook


MLP_TRAIN_EVERY_EPOCH = '''
train_losses, valid_losses = [], []
for epoch in range(n_epochs):
    model.train()
    total = 0.0
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(images)
    train_losses.append(total / len(train_loader.dataset))
    model.eval()
    total = 0.0
    with torch.no_grad():
        for images, labels in valid_loader:
            total += criterion(model(images), labels).item() * len(images)
    valid_losses.append(total / len(valid_loader.dataset))
    torch.save(model.state_dict(), "model.pt")
'''

MLP_TRAIN_NO_EVAL = MLP_TRAIN_EVERY_EPOCH.replace("    model.eval()\n", "").replace(
    '    torch.save(model.state_dict(), "model.pt")',
    '    if valid_losses[-1] == min(valid_losses):\n        torch.save(model.state_dict(), "model.pt")',
) + 'model.load_state_dict(torch.load("model.pt"))\n'

MLP_NET = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 512)
        self.fc3 = nn.Linear(512, {outputs})
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = x.view(-1, 784)
        x = self.dropout(F.relu(self.fc1(x)))
        x = self.dropout(F.relu(self.fc2(x)))
        return {last}

model = Net()
'''

MNIST = [
    Variant("correct-sequential-mlp", "mnist_mlp", {"mlp_model": '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.1),
                                    nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.layers(x)

model = Net()
'''}),
    Variant("correct-log-softmax-nll", "mnist_mlp", {
        "mlp_model": MLP_NET.format(outputs=10, last="F.log_softmax(self.fc3(x), dim=1)"),
        "mlp_loss_optimizer": "criterion = nn.NLLLoss()\noptimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n",
    }),
    Variant("correct-adam", "mnist_mlp", {
        "mlp_loss_optimizer": "criterion = nn.CrossEntropyLoss()\n"
                              "optimizer = torch.optim.Adam(model.parameters(), lr=0.001)\n",
    }),
    Variant("mistake-softmax-before-cross-entropy", "mnist_mlp",
            {"mlp_model": MLP_NET.format(outputs=10, last="F.softmax(self.fc3(x), dim=1)")},
            {"mlp_loss_optimizer": 1 / 3, "mlp_test": 2 / 4}),
    Variant("mistake-one-unit-output", "mnist_mlp", {"mlp_model": MLP_NET.format(outputs=1, last="self.fc3(x)")},
            {"mlp_model": 1 / 3, "mlp_train": 0.0, "mlp_test": 0.0}),
    Variant("mistake-last-epoch-weights", "mnist_mlp", {
        "mlp_loss_optimizer": "criterion = nn.CrossEntropyLoss()\n"
                              "optimizer = torch.optim.Adam(model.parameters(), lr=0.005)\n",
        "mlp_train": MLP_TRAIN_EVERY_EPOCH,
    }, {"mlp_train": 2 / 3}),
    Variant("mistake-eval-mode-missing-in-validation", "mnist_mlp", {"mlp_train": MLP_TRAIN_NO_EVAL},
            {"mlp_train": 2 / 3}),
    Variant("mistake-dropout-always-on", "mnist_mlp",
            {"mlp_model": MLP_NET.format(outputs=10, last="self.fc3(x)").replace(
                "self.dropout(F.relu(self.fc2(x)))", "F.dropout(F.relu(self.fc2(x)), 0.2)")},
            {"mlp_train": 2 / 3, "mlp_test": 3 / 4}),
    Variant("mistake-optimizer-misses-layers", "mnist_mlp", {
        "mlp_loss_optimizer": "criterion = nn.CrossEntropyLoss()\n"
                              "optimizer = torch.optim.SGD(model.fc3.parameters(), lr=0.01)\n",
    }, {"mlp_loss_optimizer": 2 / 3, "mlp_test": 2 / 4}),
    Variant("mistake-hard-coded-test-accuracy", "mnist_mlp", {"mlp_test": "test_accuracy = 0.99\n"},
            {"mlp_test": 3 / 4}),
]

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
    Variant("mistake-sobel-wrong-direction", "custom_filters", {"sobel_x": SOBEL_Y}, {"sobel_x": 1 / 4}),
    Variant("mistake-convolve2d-flips-kernel", "custom_filters", {"convolve2d": CONVOLVE_FLIPPED},
            {"convolve2d": 1 / 5}),
    Variant("mistake-convolve2d-calls-opencv", "custom_filters", {"convolve2d": CONVOLVE_WITH_CV2},
            {"convolve2d": 4 / 5}),
    Variant("mistake-blur-not-normalised", "custom_filters", {"blur_then_edges": '''
blur_kernel = np.ones((3, 3))
blurred_edges = cv2.filter2D(cv2.filter2D(gray, -1, blur_kernel), -1, sobel_x)
'''}, {"blur_then_edges": 1 / 3}),
    Variant("mistake-convolve2d-reflect-padding", "custom_filters",
            {"convolve2d": CONVOLVE_PAD_WINDOWS.replace("np.pad(np.asarray(image, dtype=float), k)",
                                                        "np.pad(np.asarray(image, dtype=float), k, mode='reflect')")},
            {"convolve2d": 1 / 5}),
    Variant("mistake-high-pass-integer-weights", "custom_filters", {"high_pass_5x5": '''
high_pass_5x5 = -np.ones((5, 5))
high_pass_5x5[2, 2] = 24
'''}, {"high_pass_5x5": 2 / 3}),
]

CONV_NET_WITH_BIAS = '''
class Net(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=(4, 4))
        self.conv.weight = nn.Parameter(weight)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        conv_x = self.conv(x)
        activated_x = F.relu(conv_x)
        return conv_x, activated_x, self.pool(activated_x)

model = Net(weight)
'''

LESSON_LAYERS = '''
conv1 = nn.Conv2d(1, 16, 2, stride={stride})
conv2 = nn.Conv2d(16, 32, 3, padding={padding})
features = nn.Sequential(conv1, nn.MaxPool2d(2, 2), nn.ReLU(), conv2, nn.MaxPool2d(2, 2), nn.ReLU())
'''

CNN = '''
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 3)
        self.conv2 = nn.Conv2d(10, 20, 5, padding=2)
        self.pool4, self.pool2 = nn.MaxPool2d(4, 4), nn.MaxPool2d(2, 2)
        self.fc = nn.Linear({flat}, 10)

    def forward(self, x):
        x = self.pool2(F.relu(self.conv2(self.pool4(F.relu(self.conv1(x))))))
        return self.fc(x.flatten(1))

cnn = CNN()
'''

CONV = [
    Variant("correct-same-padding-relu-first", "conv_layers", {"lesson_layers": '''
conv1 = nn.Conv2d(1, 16, kernel_size=(2, 2), stride=(2, 2), padding=0)
conv2 = nn.Conv2d(16, 32, 3, padding="same")
features = nn.Sequential(conv1, nn.ReLU(), nn.MaxPool2d(2), conv2, nn.ReLU(), nn.MaxPool2d(2))
''', "cnn_classifier": CNN.format(flat="20 * 16 * 16")}),
    Variant("mistake-conv1-stride-1", "conv_layers", {"lesson_layers": LESSON_LAYERS.format(stride=1, padding=1)},
            {"lesson_layers": 1 / 3}),
    Variant("mistake-conv2-no-padding", "conv_layers", {"lesson_layers": LESSON_LAYERS.format(stride=2, padding=0)},
            {"lesson_layers": 1 / 3}),
    Variant("mistake-wrong-flatten-size", "conv_layers", {"cnn_classifier": CNN.format(flat="20 * 32 * 32")},
            {"cnn_classifier": 0.0}),
    Variant("mistake-conv-with-bias", "conv_layers", {"conv_net": CONV_NET_WITH_BIAS}, {"conv_net": 0.0}),
    Variant("mistake-relu-missing", "conv_layers", {"conv_net": CONV_NET_WITH_BIAS.replace(
        "kernel_size=(4, 4))", "kernel_size=(4, 4), bias=False)").replace("activated_x = F.relu(conv_x)",
                                                                         "activated_x = conv_x")},
        {"conv_net": 2 / 4}),
]

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

REFERENCE = [Variant(f"correct-reference-{a}", a) for a in ("mnist_mlp", "custom_filters", "conv_layers", "cnn_quiz")]
VARIANTS = REFERENCE + MNIST + FILTERS + CONV + QUIZ
# Graded in the default test tier; the rest of VARIANTS only in the slow tier.
QUICK = {"correct-reference-mnist_mlp", "correct-reference-custom_filters", "correct-reference-conv_layers",
         "correct-reference-cnn_quiz", "mistake-softmax-before-cross-entropy", "mistake-convolve2d-flips-kernel",
         "mistake-wrong-flatten-size", "mistake-quiz-shapes-hwc", "correct-convolve2d-pad-and-windows"}
