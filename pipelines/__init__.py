"""What happens to a parsed Article: validate, normalise, version, store, index for search, export."""
