"""`continuo train`: configs, batches, the training loop."""
