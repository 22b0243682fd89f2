"""Prompt templates (Jinja, StrictUndefined), shipped as package data."""
