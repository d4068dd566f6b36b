"""Monte Carlo uncertainty of an estimate: input draws (draws), bands over batches (bands)."""
