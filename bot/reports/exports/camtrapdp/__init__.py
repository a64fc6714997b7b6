"""Camtrap DP 1.0.2: the data package (datapackage.py) and its three tables (tables.py)."""

from bot.reports.exports.camtrapdp.datapackage import package

__all__ = ["package"]
