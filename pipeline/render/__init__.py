"""Rendering: reports (PDF, Excel) and the clerk's validation outputs."""
