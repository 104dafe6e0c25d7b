"""Loading YAML with positions (fast path) and writing it back."""
