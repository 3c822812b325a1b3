"""Example submissions of mnist_mlp: the reference, correct variants and mistakes, with their scores.

Each example replaces some solution cells by grade id; the others keep the reference solution.
``expected`` gives, per grade id, the fraction of its points the example must keep (a grade id
not named keeps all of them).
"""

from __future__ import annotations

from grader.course.examples import Variant

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
            # its model does not learn (held-out accuracy 0.10): mlp_train keeps all but "the model learned"
            {"mlp_loss_optimizer": 1 / 3, "mlp_train": 2 / 3, "mlp_test": 2 / 4}),
    Variant("mistake-one-unit-output", "mnist_mlp", {"mlp_model": MLP_NET.format(outputs=1, last="self.fc3(x)")},
            {"mlp_model": 1 / 3, "mlp_train": 0.0, "mlp_test": 0.0}),
    Variant("mistake-last-epoch-weights", "mnist_mlp", {
        "mlp_loss_optimizer": "criterion = nn.CrossEntropyLoss()\n"
                              "optimizer = torch.optim.Adam(model.parameters(), lr=0.005)\n",
        "mlp_train": MLP_TRAIN_EVERY_EPOCH,
    }, {"mlp_train": 2 / 3}),  # the model learned (a value check), so its properties count; not the best epoch
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


EXAMPLES = (Variant("correct-reference-mnist_mlp", "mnist_mlp"), *MNIST)
