"""Camtrap DP 1.0.2: the data package (datapackage.py) and its three tables (tables.py)."""
