"""The S* pipeline stages (generate, debug, select) and the baseline strategies."""
