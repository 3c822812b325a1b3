"""An auto-graded exercise and quiz harness for a convolutional-neural-network lesson."""

__version__ = "0.1.0"
