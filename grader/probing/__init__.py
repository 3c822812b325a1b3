"""Probe processes: student code called on the grader's inputs, plain data written back."""
