"""Loading: files → raw sheets → header match → typed records with provenance."""
