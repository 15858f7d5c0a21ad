"""The review layer: run the stack program offline (mocks), plan, diff, cost."""
