"""Default models for countries without data: put on market, fates, and their calibration."""
