"""The event vocabulary: every token Continuo's models read or write is defined here
(``tokens``: ids, kinds, conversions; ``grammar``: the bar grid and what may come next;
``styles``: the style taxonomy). Everything is importable from ``bridge.vocab``; nothing
here imports anything else of ours.

Time is beat-relative and tempo-free. A *beat* is a quarter note; it divides into
``TICKS_PER_BEAT`` = 24 ticks, the least common multiple of 16ths (6), 32nds (3) and
triplet 16ths (4), and also MIDI clock's 24 ppq. A piece is a stream of

    BAR                      the cursor moves to the start of the next bar
    BEAT_b   (b = 1..7)      ... to beat b of the current bar (must move forward)
    SUB_t    (t = 1..23)     ... to tick t of the current beat (must move forward)
    PITCH_p | DRUM_p         a note starts at the cursor: pitched (0..127) or GM drum (0..127)
    VEL_v    (v = 0..15)     its velocity bin
    DUR_d    (d = 0..95)     its duration bin (exact ticks to 2 beats, then coarser to 16 beats)
    PART_q   (q in PARTS)    the notes that follow belong to part q, until the next PART

A part is what a note does in the texture: ``melody`` (the lead line), ``harmony`` (chords,
inner voices, accompaniment), ``bass``, ``drums`` (every drum note, and only drum notes).
PART is said only when the part changes, and before a note: the part lasts across time
tokens. Notes at the same time follow each other with no time token between, in part order
and then token order (pitched notes by rising pitch, drums by rising key), so one instant
never holds the same note twice. Every note carries its duration, so a generated note's
release is known the moment it is emitted. BOS opens a sequence, EOS ends a piece, PAD
fills batches. Style tags condition generation through the model's style table (see
``STYLES``), not through event tokens.

:class:`Cursor` is the grammar: it follows a token stream, knows where in time it stands,
and says which tokens may come next (``allowed``), so encoder, decoder and sampler agree.
"""

from bridge.vocab.grammar import (  # noqa: F401
    EXPECT_DUR,
    EXPECT_NOTE,
    EXPECT_TIME_OR_NOTE,
    EXPECT_VEL,
    Cursor,
    allowed_mask,
    lowest_notes,
    order_key,
)
from bridge.vocab.meter import Meter  # noqa: F401
from bridge.vocab.styles import (  # noqa: F401
    GENRES,
    NO_STYLE,
    PERCUSSION_GENRES,
    STYLES,
    SUBSTYLES,
    genre_of,
    style_tag,
)
from bridge.vocab.tokens import (  # noqa: F401
    BAR,
    BASS,
    BEAT_BASE,
    BOS,
    DRUM_BASE,
    DRUMS,
    DUR_BASE,
    DURATION_TICKS,
    EOS,
    HARMONY,
    K_BAR,
    K_BEAT,
    K_DRUM,
    K_DUR,
    K_PART,
    K_PITCH,
    K_SPECIAL,
    K_SUB,
    K_VEL,
    KIND,
    MAX_BEATS_PER_BAR,
    MELODY,
    N_DURATIONS,
    N_PITCHES,
    N_VELOCITY_BINS,
    NO_PART,
    PAD,
    PART_BASE,
    PART_SETS,
    PARTS,
    PITCH_BASE,
    REGISTER_TOP,
    SUB_BASE,
    TICKS_PER_BEAT,
    VEL_BASE,
    VOCAB_SIZE,
    VOCAB_VERSION,
    beat_token,
    bin_velocity,
    duration_bin,
    duration_step,
    note_token,
    part_index,
    part_notes,
    part_token,
    parts_named,
    sub_token,
    token_name,
    velocity_bin,
)
