"""National submissions applied to the estimate: overlay, targets, status."""
