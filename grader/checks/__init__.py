"""Hidden checks: pytest modules ``test_<assignment>.py``, one grade id per check."""
