"""Example submissions of conv_layers: the reference, correct variants and mistakes, with their scores.

Each example replaces some solution cells by grade id; the others keep the reference solution.
``expected`` gives, per grade id, the fraction of its points the example must keep (a grade id
not named keeps all of them).
"""

from __future__ import annotations

from grader.course.examples import Variant

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


EXAMPLES = (Variant("correct-reference-conv_layers", "conv_layers"), *CONV)
