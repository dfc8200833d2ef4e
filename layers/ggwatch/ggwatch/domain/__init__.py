"""Pure domain: deployment observations, stored state, transition rules, the notification schema."""
