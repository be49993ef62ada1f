"""The reviewer-facing outputs: per-figure HTML, the site index, reconciliation, provenance and manifest."""
