"""Operating a stack: alert rules and dashboards as data, and `make status`."""
