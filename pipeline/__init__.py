"""客服报表 pipeline: load clerks' registers, validate, compute KPIs, render and deliver reports."""

__version__ = "0.1.0"
