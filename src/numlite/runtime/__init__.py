"""Planner and executor."""
