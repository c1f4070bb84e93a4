"""Delivery: email, schedule, watching the drop folder."""
