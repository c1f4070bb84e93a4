"""The KPIs: records and a period in, the KPI model (kpis.json) out. core: the figures of one slice;
slices: the same over the group's properties, departments and staff; lists: what the meeting works
through; model: the whole model with trends and provenance; scorecard: the staff awards."""
