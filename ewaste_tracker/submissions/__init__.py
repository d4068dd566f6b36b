"""Submission templates, validation rules, reading submissions and the store."""
