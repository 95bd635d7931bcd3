"""The runtime around emitted modules: attention and expert ops, generation, GRPO training, reward safety."""
