"""Shared UI pieces with no model math: catalog, model panel, images, charts, URL state."""
