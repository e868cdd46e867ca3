"""`continuo eval`: the models beside simple baselines, on any manifest folder."""
