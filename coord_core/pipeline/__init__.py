"""Pipeline stages the DAG tasks call: extract, validate, analyze, load, publish.

Each stage takes a store/client objects and a data window, is idempotent for that window, and
returns a small summary dict that is safe to pass through XCom (references and counts, no data).
"""
