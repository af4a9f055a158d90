"""benchmark: MATLAB-faithful deraining metrics, resumable runs and leaderboards."""
