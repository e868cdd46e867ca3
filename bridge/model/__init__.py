"""The models: event generator, style tagger, sampling, checkpoints."""
