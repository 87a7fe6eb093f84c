"""Training: the 4D-RGPT student (SFT, P4D on top) and the small 4D teacher; checkpoints and their releases."""
