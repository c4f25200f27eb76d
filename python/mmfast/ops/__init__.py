"""Operating the bot for real money: preflight, the kill switch and its monitors, the state
file's run bookkeeping, and the dry run. Everything here runs at start or about once a second,
never on the hot path."""
