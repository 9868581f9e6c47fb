"""Analyses the pages draw and the evaluators report: interpolation, plausibility, tangents, vector fields."""
