"""models: UDRDR (ICCV 2021) networks, losses and training, and baselines such as PReNet."""
