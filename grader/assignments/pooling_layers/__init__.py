"""The pooling_layers assignment: max and average pooling written in NumPy, and the shapes pooling gives.

Its folder holds everything specific to it (see ../shared/contract.md's ``pooling_layers``):

- ``probe.py``: the cells the probe process runs, the unseen maps (``make_inputs``) and the
  probes that call the student's ``max_pool2d`` / ``avg_pool2d`` on them, also with NumPy alone;
- ``test_pooling_layers.py``: the hidden pytest checks, one ``@grade`` per check;
- ``figures.py``: the feedback picture (the student's pooling of a road's feature maps);
- ``examples.py``: correct variants and mistakes with the score each must keep.

Nothing here is imported at start-up but these declarations (no torch).
"""

EXPORTED_NAMES = ("p1_shape", "p2_shape", "p3_params", "p4_kept")  # what the export cell writes
PARAMETERS: dict[str, object] = {}  # papermill parameters: none
KEPT_FILES: tuple[str, ...] = ()  # files of the scratch folder kept after grading: none
