"""TensorFlow 1 checkpoints read without TensorFlow (to be written)."""
