"""Queries behind each report: read model only, always scoped to the caller's trust and schools."""
