"""Training and evaluation data: the synthetic Shapes64 world (shapes64.py), its edit grammar
and conversations, image-text corpora (corpus.py; the emoji corpus: corpus_emoji.py) and the
examples and dialogues drawn from them."""
