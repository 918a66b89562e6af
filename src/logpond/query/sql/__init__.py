"""Plans and filter patterns as SQL: one renderer, a dialect per engine."""
