"""Every event a handler receives, parsed in one place: one module per event source.

A new event source is one new module here; handlers only call its parser. The tracker's CloudTrail
events use Powertools' EventBridgeModel: importing Powertools' parser models adds about 13 modules and
15 ms of CPU to a handler import of about 700 ms (measured with `python -X importtime` and
`time.process_time`), which is not worth avoiding.
"""
