"""Write the bundled example class into submitted/ (run from the repository root).

Four students: a reference solution, a student with typical mistakes, one with other correct
solutions, and one who handed in the untouched release; one notebook of each for every assignment.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.submissions import VARIANTS, build  # noqa: E402

CLASS = {
    "ada": ["correct-reference-mnist_mlp", "correct-reference-custom_filters", "correct-reference-conv_layers",
            "correct-reference-cnn_quiz", "correct-reference-pooling_layers"],
    "grace hopper": ["mistake-softmax-before-cross-entropy", "mistake-sobel-wrong-direction",
                     "mistake-conv1-stride-1", "mistake-quiz-shapes-hwc", "mistake-avg-over-padded-zeros"],
    "émilie": ["correct-sequential-mlp", "correct-convolve2d-pad-and-windows", "correct-same-padding-relu-first",
               "correct-numpy-numbers-and-lists", "correct-pooling-loops"],
}
UNTOUCHED = "alan"


def main() -> None:
    by_name = {variant.name: variant for variant in VARIANTS}
    submitted = ROOT / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    for student, names in CLASS.items():
        for variant in (by_name[name] for name in names):
            target = submitted / student / variant.assignment / f"{variant.assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(build(ROOT, variant), target)
    for release in sorted((ROOT / "release").glob("*/*.ipynb")):
        target = submitted / UNTOUCHED / release.parent.name / release.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(release, target)
    print(f"wrote {len(list(submitted.glob('*/*/*.ipynb')))} notebooks under {submitted}")


if __name__ == "__main__":
    main()
