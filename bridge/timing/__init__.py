"""Time on the song's beat grid: the beat clock and the note scheduler."""
