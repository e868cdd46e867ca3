"""Live sessions: parameters, modes, the inference worker."""
