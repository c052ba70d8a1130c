"""summit-assistant."""
