"""nbgrader's course settings, and the grader's own (read by `grader` and `nbgrader` alike)."""

c = get_config()  # noqa: F821 -- provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "cnn-lesson"
c.CourseDirectory.assignment_id = ""

# Student versions: nbgrader replaces solution regions with this code.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 600

# The grader's own settings (grader/course/settings.py). Grading parameters are injected into each
# notebook's `parameters` cell by papermill; the reference clears the thresholds with margin.
c.GraderSettings.parameters = {
    "mnist_mlp": {"n_epochs": 15, "seed": 0, "dataset": "mnist5k", "batch_size": 20, "valid_size": 0.2},
}
c.GraderSettings.accuracy_thresholds = {"mnist5k": 0.85, "mnist": 0.97}
c.GraderSettings.cell_timeout = 300
c.GraderSettings.notebook_timeout = 900

# The sandbox around student code (grader/sandbox/policy.py): limits per student process, sized for a
# laptop. Student code runs in its own PID, mount and network namespaces (no network, the
# course, the grader's checks and the held-out digits hidden), as another uid when the grader
# is root. Where namespaces are unavailable the grader warns at start; require_isolation makes
# that an error instead.
c.Sandbox.cpu_seconds = 1800
c.Sandbox.memory_mb = 3072
c.Sandbox.file_mb = 256
c.Sandbox.scratch_mb = 1024
c.Sandbox.processes = 128
c.Sandbox.open_files = 256
c.Sandbox.require_isolation = False
