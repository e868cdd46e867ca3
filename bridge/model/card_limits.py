"""The known limits a model card states: what each kind of model is known to get wrong or
lack, and the sources it was trained without."""

from __future__ import annotations

# sources -> the genres they would bring, how they may be used, and how to train with them
NOT_YET = {"wjd": ("jazz", "the Weimar Jazz Database under ODbL 1.0", "`wjd` in the config's "
                   "datasets"),
           "music21": ("classical", "music21's corpus with per-collection attribution",
                       "`continuo data build --music21`")}


def limits(kind: str, datasets: list[str]) -> list[str]:
    out = list(LIMITS[kind])
    missing = [name for name in NOT_YET if name not in datasets]
    if missing:
        genres = " or ".join(NOT_YET[name][0] for name in missing)
        terms = ", ".join(NOT_YET[name][1] for name in missing)
        how = ", and ".join(NOT_YET[name][2] for name in missing)
        out.append(f"- Trained without {' and '.join(missing)}, so no {genres} yet. "
                   f"{'Both' if len(missing) > 1 else 'It'} may be used ({terms}): {how}.")
    return out


LIMITS = {
    "generator": [
        "- It knows the styles of its data only; a style outside its table falls back to "
        "the genre, then to none.",
        "- A request for another genre than the music heard lands there about three times "
        "in four on melodies (judged by the shipped tagger), least often for pop; asked for "
        "jazz or classical, a melody leaves the prompt's key more than unstyled "
        "(docs/musicality.md, \"Style requests that act\").",
        "- Genres still differ in texture (pop: piano arrangements and their melodies, folk: "
        "tunes and block chords, classical: chorales, quartets and madrigals and their top "
        "lines, jazz: solo lines only, drums: GM percussion only): asking a drum part for "
        "`pop` leaves its training distribution.",
        "- Parts come from the sources (track names, score order) and, where a source says "
        "nothing, from what a stream plays (the single high line is the melody, a low one the "
        "bass, the rest harmony, and a piano part's lowest line the bass where it lies clearly "
        "apart): such guesses are sometimes wrong. Live, the performer's part is what the "
        "session's `plays` says.",
        "- Asked for parts (`continue --part`, a session's `part`, a band's played members), "
        "it plays those parts of the texture it writes and only hears the rest. After a "
        "melody alone it would keep writing melody: a part asked for that the last two bars "
        "lack is favoured (its PART token, +8 logits) until the context has it, and the "
        "arranged training windows (one part alone, then the others entering) taught it what "
        "such a part plays (on 12 melody prompts a bass entered at a mean pitch of 47, "
        "harmony at 58; Nottingham's own chords sit at 45).",
        "- No source has drums and pitched parts together, so it has never heard them at "
        "once: hearing a drummer, a pitched part comes out far too busy (val, 10 Groove "
        "takes: a bass 4.2 notes a beat, at pitches from 30 to 78, where POP909's basses play "
        "0.46; a melody 4.0 where melodies play 1.3-1.8) and drums asked for under a melody "
        "too sparse (1.3 a beat; Groove plays 5.0). So `continue --part` asks pitched parts "
        "of a file with drums hearing its pitched parts alone, and over drums alone they come "
        "in from a silence, a bass led to the kick's hits (a bass 1.12 notes a beat, 0.73 of "
        "them where the kick plays; a melody 1.47), and a live session likewise, its "
        "answers and accompaniment alike (accompanying a drummer, a bass 0.96 notes a beat, "
        "0.80 on the kick). A bass plays no higher than G4 (drawn from no pitched context "
        "it wandered up to 92). Mixture "
        "windows (`data.mix`, a groove laid under pitched music) "
        "are what its next training adds (a short CPU run moved drums under a melody to 2.7 "
        "a beat, the bass not yet). A file with both (a band) is continued side by side: "
        "its drums from its drums alone, its pitched parts from theirs (`continuo eval "
        "--task continuation --bands`: a song with a groove under it 0.614 -> 0.796, the "
        "echo 0.801; docs/musicality.md, \"A band goes on\"), and a live band that plays "
        "drums beside pitched parts draws each from its side alone (a bass under a melody: "
        "1.62 notes a beat hearing the drums, 0.58 without, the songs' 0.62).",
        "- On the continuation benchmark still below an echo of the last bars on the drum "
        "grooves, music21's scores and POP909's songs, whose next bars are mostly their last "
        "ones played again with small changes. Accompanying, it plays the changes it heard "
        "more exactly than the music does (bars copied note for note: music21 0.46 and POP909 "
        "0.29, where their accompaniments copy 0.05 and 0.04).",
        "- Timing is quantised to 1/24 beat; micro-timing finer than that is lost.",
        "- Small by design (fast on one CPU core): long-range form (verse, chorus) is beyond "
        "it.",
    ],
    "tagger": [
        "- Genres are still partly confounded with texture (jazz is solo lines only, drums "
        "percussion only): it may tag by texture rather than by style; melody-only windows "
        "carry less of a genre than whole textures (see the accuracy by texture).",
        "- Each source is played its own way (POP909's melodies with a performer's dynamics, "
        "jazz solos with a player's timing, folk tunes and scores with neither), and a tagger "
        "can learn that instead of the music. Half of its training windows were played "
        "another way (dynamics flat, varied or kept; timing on a grid, humanised or kept); "
        "played another way, melodies alone are still tagged less well than as they are "
        "(see the accuracy when played another way).",
        "- It knows the genres of its data only.",
        "- Sub-styles that are collections rather than dance types (folk/ashover, "
        "folk/playford, folk/christmas, folk/morris) cannot be told apart by ear.",
        "- The sub-style head learnt its training pieces (drummers, soloists, tunes) more "
        "than their styles (measured 5 December on the tagger then shipped: macro-F1 0.67 on "
        "4-bar windows of its training data, 0.39 on val; jazz and drum sub-styles the "
        "weakest): more players and tunes per sub-style, not a larger model, is the lever.",
        "- Short windows (2 bars) of sparse input are tagged with low confidence.",
        "- Where it counts the generator's ear (`generator_weight`), its genres are as good "
        "as the two models together: the weight was fitted with the generator shipped beside "
        "it, and a generator fine-tuned on other music moves the tags too (a "
        "`generator_weight` of 0 in the tagger's model.json tags with the tagger alone).",
    ],
}
