"""Output formats: event exports (jsonl, csv, parquet), terminal views (rich), and later the
findings formats (text, json, sarif, junit, html). Writers take an open binary stream or a
path; none prints."""
