"""The names the loss and advantage code accept, in a module of their own so that the config (and `--help`) can
list them without importing torch."""

LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo", "cispo")
IMPORTANCE_SAMPLING_LEVELS = ("token", "sequence")
SCALE_REWARDS = ("group", "batch", "none")
