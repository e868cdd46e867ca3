"""What a tag names: a sub-style only within the genre it gives first."""

import numpy as np

from bridge.model.tagger import Tagger, TaggerConfig


def test_the_reported_sub_style_is_the_likeliest_of_the_top_genres():
    tagger = Tagger(TaggerConfig(n_embd=8, n_conv=8, n_hidden=8,
                                 genres=("folk", "jazz", "pop"),
                                 substyles=("folk/jig", "folk/reel", "jazz/bebop")))
    g = np.array([[3.0, 1.0, 0.0],      # folk, though jazz/bebop is the likeliest sub-style
                  [0.0, 2.0, 1.0],      # jazz: its only sub-style
                  [0.0, 1.0, 2.0]])     # pop has none
    s = np.array([[0.5, 1.0, 9.0],
                  [4.0, 0.0, -1.0],
                  [1.0, 2.0, 3.0]])
    assert tagger.reported_substyles(g, s).tolist() == [1, 2, -1]
    assert tagger.substyles_of("folk") == [0, 1] and tagger.substyles_of("pop") == []


def test_a_tag_weighs_sub_styles_by_their_training_shares():
    """Training balances the sub-styles; a tag weighs them back toward how often they
    occur (square root of the share), so a close call goes to the common one."""
    config = dict(n_embd=8, n_conv=8, n_hidden=8, genres=("folk",),
                  substyles=("folk/jig", "folk/playford"))
    g, s = np.array([[1.0]]), np.array([[1.0, 1.5]])
    assert Tagger(TaggerConfig(**config)).reported_substyles(g, s).tolist() == [1]
    weighed = Tagger(TaggerConfig(**config, substyle_shares=(0.9, 0.1)))
    assert weighed.reported_substyles(g, s).tolist() == [0]          # 0.5 * log 9 > 0.5
    assert weighed.reported_substyles(g, np.array([[1.0, 3.0]])).tolist() == [1]
    assert TaggerConfig.from_dict(weighed.config.to_dict()) == weighed.config
