"""Helpers any stage may use, importing none: process pools (pool), locks (lock), the run's log
(runlog), known faults told in Chinese (faults), files written whole or not at all (atomic)."""
