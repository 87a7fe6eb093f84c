"""Every neural network and perception backend: the experts now, the 4D-RGPT student and P4D teacher later."""
