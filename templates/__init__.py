"""The report templates (Jinja2), shipped as package data of ``batchcheck.templates``."""
