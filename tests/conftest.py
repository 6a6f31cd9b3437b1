"""pytest configuration shared by the whole suite."""

pytest_plugins = ["op_coverage"]
