"""`make demo`: the whole ggwatch loop, live, offline, on this machine.

An operator starts V1 bulk deployments through a real boto3 Greengrass client (their lives come from the
simulator: some complete, some fail, some are stopped, one completes with invalid records and
retries) and tracks one unknown ID by hand. Each start reaches the tracker as its CloudTrail event.
Beside them it creates Greengrass V2 deployments from the fleet simulator's lives (a thing group of 50
where 3 devices fail, one device that completes, a canceled rollout) and tracks each by direct
invocation. The poller runs on a fast schedule; every message SNS delivers is handed to the Slack
notifier; a rule on the EventBridge bus captures every event the poller puts there; and the terminal
shows each transition (a V2 deployment's new failures and finished rollout too, while it stays ACTIVE),
each Slack message and each event as it happens, then a summary of both kinds, with the events counted
against the notifications (each transition put on the bus exactly once, same transitionIds as SNS) and
the results summaries notifications carry.

It stops by itself as soon as every deployment is terminal (a V2 one: at the end of its life) and
every message delivered, or at the time limit; Ctrl-C stops it cleanly. Exit status: 0 all done,
1 limit reached or something failed (events that are not the notifications one for one included),
130 interrupted.

The parts: `options` (the command line), `plan` (what the operator does, when), `run` (the loop),
`report` (what it saw), `timeline` (the live terminal lines), `summary` (the closing table) and
`cli` (`main`, Ctrl-C, the exit status).
"""

try:  # a second or so of imports: Ctrl-C during them ends the demo like Ctrl-C after them
    from .cli import main
    from .options import DemoOptions, parse_args
    from .plan import UNKNOWN_LIFE, V2_LIVES, plan, plan_v2
    from .run import Demo
    from .summary import print_summary
except KeyboardInterrupt:
    raise SystemExit(130) from None

__all__ = [
    "UNKNOWN_LIFE",
    "V2_LIVES",
    "Demo",
    "DemoOptions",
    "main",
    "parse_args",
    "plan",
    "plan_v2",
    "print_summary",
]
