"""The network (transformer.py), the layout of text and image patches in one sequence
(sequence.py), the BPE tokenizer, and the contexts a conversation is laid out as (chat.py)."""
